namespace Engine.ReadModel;

/// <summary>
/// Which feeder drives this server's read model: the leader's journal projector or a replica's follower. Set once by
/// the host at start-up; read by the query, event and replication services.
/// </summary>
public sealed class ReadModelFeed
{
    private volatile IReadModelFeeder? _feeder;
    private volatile Func<long>? _logEpoch;

    /// <summary>The feeder, for snapshots; null before start-up finished.</summary>
    public IReadModelFeeder? Feeder => _feeder;

    /// <summary>The upstream on a read replica; null on a leader (and before start-up finished).</summary>
    public IUpstreamStatus? Upstream => _feeder?.Upstream;

    /// <summary>
    /// The log epoch of the event stream this server serves: the engine journal's on a leader, the upstream's on a
    /// replica (ReplicationStatus.log_epoch, the Subscribe header <c>x-log-epoch</c>).
    /// </summary>
    public long LogEpoch => _logEpoch?.Invoke() ?? 0;

    public void Set(IReadModelFeeder feeder, Func<long> logEpoch)
    {
        _logEpoch = logEpoch;
        _feeder = feeder;
    }
}
