using Engine.Core;
using Engine.Domain;
using Engine.Server.Grpc;
using Engine.ReadModel;
using Engine.Server.Replication;
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
/// <para>
/// Health has two halves (README "Health"): the command path (<see cref="CommandServiceNames"/>, and "" on a leader)
/// follows the engine; the read side (<see cref="ReadServiceNames"/>) follows the read model as well. A read-model
/// fault makes only the read side NOT_SERVING: the authorization path does not depend on the read model, so a
/// health-checking router must not stop sending it card traffic for that.
/// </para>
/// </summary>
public sealed class EngineHost : IHostedService, IDisposable
{
    /// <summary>The services that take commands: served by the engine, on a leader only.</summary>
    public static readonly string[] CommandServiceNames =
    [
        "credit.v1.AuthorizationService",
        "credit.v1.AccountService",
        "credit.v1.LifecycleService",
        "credit.v1.PipelineService",
    ];

    /// <summary>The services answered from the read model and the log it indexes, on a leader and on a replica.</summary>
    public static readonly string[] ReadServiceNames =
    [
        "credit.v1.QueryService",
        "credit.v1.EventService",
        "credit.v1.ReplicationService",
    ];

    /// <summary>Service names reported by grpc.health.v1.Health ("" is the server's main job: commands on a leader, reads on a replica).</summary>
    public static readonly string[] HealthServiceNames = ["", .. CommandServiceNames, .. ReadServiceNames];

    private readonly EngineOptions _options;
    private readonly ServerRoleOptions _role;
    private readonly ReadModelFeed _feed;
    private readonly JournalProjector _projector;
    private readonly HealthServiceImpl _health;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<EngineHost> _logger;
    private readonly LedgerReadModel _readModel;
    private CreditEngine? _engine;
    private Timer? _watchdog;
    private volatile bool _draining;
    private volatile int _exitCode;

    /// <summary>Process exit code after the engine fail-stopped at runtime (a stage fault, EIO, ENOSPC): restart it.</summary>
    public const int ExitCodeEngineFault = 1;

    /// <summary>0, or <see cref="ExitCodeEngineFault"/> once the engine faulted; Program returns it.</summary>
    public int ExitCode => _exitCode;

    public EngineHost(IOptions<EngineOptions> options, IOptions<ServerRoleOptions> role, IOptions<ReadModelOptions> readModelOptions, LedgerReadModel readModel,
        ReadModelFeed feed, HealthServiceImpl health, IHostApplicationLifetime lifetime, ILogger<EngineHost> logger)
    {
        _options = options.Value;
        _role = role.Value;
        _feed = feed;
        _readModel = readModel;
        _projector = new JournalProjector(readModel, readModelOptions.Value, logger);
        _health = health;
        _lifetime = lifetime;
        _logger = logger;
        SetHealth(commandsServing: false, readsServing: false);
    }

    /// <summary>
    /// The running engine; UNAVAILABLE before start-up finished and after shutdown began; FAILED_PRECONDITION naming
    /// the leader on a read replica, which has no engine.
    /// </summary>
    public CreditEngine Engine
    {
        get
        {
            if (_role.IsReplica) throw GrpcErrors.ReadReplica(_role.LeaderUrl);
            CreditEngine? engine = _engine;
            if (engine is null) throw GrpcErrors.NotRunning("the engine is starting up");
            if (engine.Fault is not null) throw GrpcErrors.NotRunning("the engine stopped after an internal failure; see the server log");
            if (_draining || !engine.IsAccepting) throw GrpcErrors.NotRunning("the engine is shutting down");
            return engine;
        }
    }

    /// <summary>The engine's idempotency window (ReplicationService.GetStatus); null on a replica and before start-up finished.</summary>
    public IdempotencyWindowStatus? IdempotencyWindow => _engine?.IdempotencyWindow;

    /// <summary>FAILED_PRECONDITION naming the leader when this server is a read replica.</summary>
    public void ThrowIfReplica()
    {
        if (_role.IsReplica) throw GrpcErrors.ReadReplica(_role.LeaderUrl);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _logger.LogInformation("starting engine: data directory {DataDirectory}", Path.GetFullPath(_options.DataDirectory));
        // A cut of a damaged journal tail must also drop read-model snapshots of the lost events (they would be loaded
        // again once new events re-use those sequences).
        _options.Recovery.BeforeCut = lastGoodSequence =>
            new Engine.Journal.SnapshotStore(JournalProjector.SnapshotDirectory(_options.DataDirectory), logger: _logger).DeleteNewerThan(lastGoodSequence);
        _engine = CreditEngine.Start(_options, TimeProvider.System, _logger);
        _logger.LogInformation("engine recovered: {Recovery}", _engine.Recovery);
        _projector.Start(_engine.Journal, _options.DataDirectory, _options.Ledger, _engine.TryOpenNewestSnapshot);
        CreditEngine started = _engine;
        _feed.Set(_projector, () => started.Journal.LogEpoch);
        _lifetime.ApplicationStopping.Register(() =>
        {
            // First thing on SIGTERM: tell load balancers to go elsewhere while in-flight calls finish.
            _draining = true;
            SetHealth(commandsServing: false, readsServing: false);
        });
        _watchdog = new Timer(_ => CheckFault(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        _ = started.Faulted.ContinueWith(fault => OnEngineFault(fault.Result), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        CheckFault();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        SetHealth(commandsServing: false, readsServing: false);
        if (_watchdog is not null) await _watchdog.DisposeAsync().ConfigureAwait(false);
        await _projector.StopAsync().ConfigureAwait(false);
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

    /// <summary>
    /// The engine fail-stopped (its waiters are released with UNAVAILABLE, nothing undurable was acknowledged): stop the
    /// whole process with a non-zero exit code, so an orchestrator restarts it and recovery starts from the journal.
    /// </summary>
    private void OnEngineFault(Exception cause)
    {
        _exitCode = ExitCodeEngineFault;
        _draining = true;
        SetHealth(commandsServing: false, readsServing: false);
        _logger.LogCritical(cause, "engine fault: {Cause}. Stopping the server with exit code {ExitCode}; restart it to recover from the journal", cause.Message, ExitCodeEngineFault);
        _lifetime.StopApplication();
    }

    /// <summary>Sets both halves of health from the current state; the watchdog runs it every second.</summary>
    private void CheckFault()
    {
        // A faulted engine also stops feeding the read model, so the read side goes down with it; not the reverse.
        bool commandsServing = !_draining && _engine is { Fault: null, IsAccepting: true };
        bool readsServing = commandsServing && _readModel.Fault is null;
        SetHealth(commandsServing, readsServing);
    }

    private void SetHealth(bool commandsServing, bool readsServing)
    {
        HealthCheckResponse.Types.ServingStatus commands = commandsServing ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.NotServing;
        HealthCheckResponse.Types.ServingStatus reads = readsServing ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.NotServing;
        // "" on a leader is its main job, the command path: a probe on "" must not pull the leader out for a read-model fault.
        _health.SetStatus("", commands);
        foreach (string name in CommandServiceNames) _health.SetStatus(name, commands);
        foreach (string name in ReadServiceNames) _health.SetStatus(name, reads);
    }

    public void Dispose() => _watchdog?.Dispose();
}
