namespace Engine.Server.Replication;

/// <summary>
/// Which feeder drives this server's read model: the leader's journal projector or a replica's follower. Set once by
/// the host at start-up; read by the replication service.
/// </summary>
public sealed class ReadModelFeed
{
    private volatile ISnapshotSource? _source;
    private volatile ReplicaFollower? _follower;
    private volatile Func<long>? _logEpoch;

    /// <summary>The feeder, for snapshots; null before start-up finished.</summary>
    public ISnapshotSource? Source => _source;

    /// <summary>The follower on a read replica; null on a leader.</summary>
    public ReplicaFollower? Follower => _follower;

    /// <summary>
    /// The log epoch of the event stream this server serves: the engine journal's on a leader, the upstream's on a
    /// replica (ReplicationStatus.log_epoch, the Subscribe header <see cref="ReplicationHeaders.LogEpoch"/>).
    /// </summary>
    public long LogEpoch => _logEpoch?.Invoke() ?? 0;

    public void Set(ISnapshotSource source, Func<long> logEpoch)
    {
        _logEpoch = logEpoch;
        _source = source;
        _follower = source as ReplicaFollower;
    }
}
