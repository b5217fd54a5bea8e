using Engine.Core;
using Engine.ReadModel;
using Engine.Server.Replication;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.Extensions.Options;

namespace Engine.Server.Hosting;

/// <summary>
/// Hosts a read replica (<c>Engine:Mode=ReadReplica</c>): recovers the read model from the replica's own disk before
/// Kestrel accepts a connection, then follows the upstream. Health is SERVING from then on, also while the upstream
/// is unreachable (answers stay labelled with their sequence and lag), and NOT_SERVING once the copy cannot be
/// trusted (a fault) or shutdown began. Stopping writes a final snapshot.
/// </summary>
public sealed class ReplicaHost : IHostedService, IDisposable
{
    private readonly ReplicaFollower _follower;
    private readonly LedgerReadModel _readModel;
    private readonly ReadModelFeed _feed;
    private readonly HealthServiceImpl _health;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<ReplicaHost> _logger;
    private readonly string _name;
    private Timer? _watchdog;

    public ReplicaHost(IOptions<EngineOptions> engine, IOptions<ReadModelOptions> readModelOptions, IOptions<ReplicaOptions> options, IOptions<ServerRoleOptions> role,
        LedgerReadModel readModel, ReadModelFeed feed, HealthServiceImpl health, IHostApplicationLifetime lifetime, IConfiguration configuration, ILogger<ReplicaHost> logger)
    {
        options.Value.Validate();
        _readModel = readModel;
        _feed = feed;
        _health = health;
        _lifetime = lifetime;
        _logger = logger;
        _name = options.Value.Name.Length > 0 ? options.Value.Name : "replica@" + (configuration["urls"] ?? "unknown").Replace("http://", "", StringComparison.Ordinal);
        if (_name.Length > 64) _name = _name[..64];
        _follower = new ReplicaFollower(readModel, engine.Value, readModelOptions.Value, options.Value, role.Value, logger);
        SetHealth(HealthCheckResponse.Types.ServingStatus.NotServing);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _follower.Start(_name);
        _feed.Set(_follower, () => _follower.UpstreamLogEpoch);
        _lifetime.ApplicationStopping.Register(() => SetHealth(HealthCheckResponse.Types.ServingStatus.NotServing));
        _watchdog = new Timer(_ => CheckFault(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        SetHealth(HealthCheckResponse.Types.ServingStatus.Serving);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        SetHealth(HealthCheckResponse.Types.ServingStatus.NotServing);
        if (_watchdog is not null) await _watchdog.DisposeAsync().ConfigureAwait(false);
        await _follower.StopAsync().ConfigureAwait(false);
        _logger.LogInformation("replica stopped cleanly at sequence {Sequence}", _readModel.AppliedSequence);
    }

    private void CheckFault()
    {
        if (_readModel.Fault is not null) SetHealth(HealthCheckResponse.Types.ServingStatus.NotServing);
    }

    private void SetHealth(HealthCheckResponse.Types.ServingStatus status)
    {
        // "" on a replica is its only job, the read side. The command services never serve here (FAILED_PRECONDITION
        // naming the leader): a health-checking router sends commands elsewhere.
        _health.SetStatus("", status);
        foreach (string name in EngineHost.CommandServiceNames) _health.SetStatus(name, HealthCheckResponse.Types.ServingStatus.NotServing);
        foreach (string name in EngineHost.ReadServiceNames) _health.SetStatus(name, status);
    }

    public void Dispose()
    {
        _watchdog?.Dispose();
        _follower.Dispose();
    }
}
