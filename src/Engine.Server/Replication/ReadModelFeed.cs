namespace Engine.Server.Replication;

/// <summary>
/// Which feeder drives this server's read model: the leader's journal projector or a replica's follower. Set once by
/// the host at start-up; read by the replication service.
/// </summary>
public sealed class ReadModelFeed
{
    private volatile ISnapshotSource? _source;
    private volatile ReplicaFollower? _follower;

    /// <summary>The feeder, for snapshots; null before start-up finished.</summary>
    public ISnapshotSource? Source => _source;

    /// <summary>The follower on a read replica; null on a leader.</summary>
    public ReplicaFollower? Follower => _follower;

    public void Set(ISnapshotSource source)
    {
        _source = source;
        _follower = source as ReplicaFollower;
    }
}
