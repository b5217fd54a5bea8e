using Engine.Journal;

namespace Engine.ReadModel;

/// <summary>
/// What feeds this server's read model: the leader's <see cref="JournalProjector"/> or a read replica's follower.
/// Serves the read model's snapshots (ReplicationService.GetSnapshot) and, on a replica, says how its upstream is.
/// </summary>
public interface IReadModelFeeder
{
    /// <summary>Where the read model's snapshots are.</summary>
    SnapshotStore Snapshots { get; }

    /// <summary>Writes a snapshot of the read model now.</summary>
    SnapshotInfo WriteSnapshot();

    /// <summary>The upstream a read replica follows; null on a leader, whose feeder reads the engine's own journal.</summary>
    IUpstreamStatus? Upstream { get; }
}

/// <summary>A read replica's view of its upstream, for status, trailers and metrics.</summary>
public interface IUpstreamStatus
{
    /// <summary>The upstream's address (<c>Engine:LeaderUrl</c>).</summary>
    string LeaderUrl { get; }

    /// <summary>True while the event stream from the upstream is up.</summary>
    bool Connected { get; }

    /// <summary>Why the last stream ended or the last rebuild failed; empty while connected.</summary>
    string LastError { get; }

    /// <summary>Streams opened to the upstream since start.</summary>
    long Reconnects { get; }

    /// <summary>Times the replica rebuilt itself from the upstream's snapshot after falling behind its retention.</summary>
    long SnapshotRebuilds { get; }

    /// <summary>The sequence this replica had from its own disk at start-up (snapshot + local log).</summary>
    long RecoveredSequence { get; }
}
