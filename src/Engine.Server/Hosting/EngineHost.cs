using Engine.Core;
using Engine.Domain;
using Engine.Server.Grpc;
using Engine.Server.ReadModel;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.Extensions.Options;

namespace Engine.Server.Hosting;

/// <summary>
/// Hosts the one <see cref="CreditEngine"/> of this process. Registered before the web server, so the host
/// starts it (recovery included) before Kestrel accepts a connection and stops it after Kestrel has drained:
/// shutdown is stop accepting → finish in-flight calls → stop the read model → drain the ring, final commit
/// and snapshot (<see cref="CreditEngine.StopAsync"/>). Health reports SERVING only in between.
/// </summary>
public sealed class EngineHost : IHostedService, IDisposable
{
    /// <summary>Service names reported by grpc.health.v1.Health ("" is the whole server).</summary>
    public static readonly string[] HealthServiceNames =
    [
        "",
        "credit.v1.AuthorizationService",
        "credit.v1.AccountService",
        "credit.v1.PipelineService",
        "credit.v1.EventService",
        "credit.v1.QueryService",
    ];

    private readonly EngineOptions _options;
    private readonly EmbeddedReadModel _readModel;
    private readonly HealthServiceImpl _health;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<EngineHost> _logger;
    private CreditEngine? _engine;
    private Timer? _watchdog;
    private volatile bool _draining;

    public EngineHost(IOptions<EngineOptions> options, EmbeddedReadModel readModel, HealthServiceImpl health, IHostApplicationLifetime lifetime, ILogger<EngineHost> logger)
    {
        _options = options.Value;
        _readModel = readModel;
        _health = health;
        _lifetime = lifetime;
        _logger = logger;
        SetHealth(HealthCheckResponse.Types.ServingStatus.NotServing);
    }

    /// <summary>The running engine; UNAVAILABLE before start-up finished and after shutdown began.</summary>
    public CreditEngine Engine
    {
        get
        {
            CreditEngine? engine = _engine;
            if (engine is null) throw GrpcErrors.NotRunning("the engine is starting up");
            if (engine.Fault is not null) throw GrpcErrors.NotRunning("the engine stopped after an internal failure; see the server log");
            if (_draining || !engine.IsAccepting) throw GrpcErrors.NotRunning("the engine is shutting down");
            return engine;
        }
    }

    /// <summary>The engine's journal for readers (subscribers), even while draining.</summary>
    public Engine.Journal.EventJournal Journal =>
        _engine?.Journal ?? throw GrpcErrors.NotRunning("the engine is starting up");

    public bool IsDraining => _draining;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _logger.LogInformation("starting engine: data directory {DataDirectory}", Path.GetFullPath(_options.DataDirectory));
        _engine = CreditEngine.Start(_options, TimeProvider.System, LogEngine);
        _logger.LogInformation("engine recovered: {Recovery}", _engine.Recovery);
        _readModel.Start(_engine.Journal, _options.Ledger);
        _lifetime.ApplicationStopping.Register(() =>
        {
            // First thing on SIGTERM: tell load balancers to go elsewhere while in-flight calls finish.
            _draining = true;
            SetHealth(HealthCheckResponse.Types.ServingStatus.NotServing);
        });
        _watchdog = new Timer(_ => CheckFault(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        SetHealth(HealthCheckResponse.Types.ServingStatus.Serving);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        SetHealth(HealthCheckResponse.Types.ServingStatus.NotServing);
        if (_watchdog is not null) await _watchdog.DisposeAsync().ConfigureAwait(false);
        await _readModel.StopAsync().ConfigureAwait(false);
        if (_engine is { } engine)
        {
            await engine.StopAsync(CancellationToken.None).ConfigureAwait(false);
            _logger.LogInformation("engine stopped cleanly");
        }
    }

    /// <summary>The gRPC error for a <see cref="Status.EngineUnavailable"/> reply: ring full while running, else not running.</summary>
    public RpcException UnavailableError()
    {
        CreditEngine? engine = _engine;
        if (engine is not null && engine.IsAccepting && engine.Fault is null && !_draining) return GrpcErrors.RingFull();
        return GrpcErrors.NotRunning(engine?.Fault is not null ? "the engine stopped after an internal failure" : "the engine is shutting down");
    }

    private void CheckFault()
    {
        if (_engine?.Fault is not null || _readModel.Fault is not null)
            SetHealth(HealthCheckResponse.Types.ServingStatus.NotServing);
    }

    private void SetHealth(HealthCheckResponse.Types.ServingStatus status)
    {
        foreach (string name in HealthServiceNames) _health.SetStatus(name, status);
    }

    private void LogEngine(string message)
    {
        if (message.StartsWith("FATAL", StringComparison.Ordinal)) _logger.LogCritical("{EngineMessage}", message);
        else if (message.StartsWith("WARNING", StringComparison.Ordinal)) _logger.LogWarning("{EngineMessage}", message);
        else _logger.LogInformation("{EngineMessage}", message);
    }

    public void Dispose() => _watchdog?.Dispose();
}
