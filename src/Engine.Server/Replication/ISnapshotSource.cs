using Engine.Journal;

namespace Engine.Server.Replication;

/// <summary>The feeder of this server's read model, as far as serving its snapshots goes (ReplicationService.GetSnapshot).</summary>
public interface ISnapshotSource
{
    /// <summary>Where the read model's snapshots are.</summary>
    SnapshotStore Snapshots { get; }

    /// <summary>Writes a snapshot of the read model now.</summary>
    SnapshotInfo WriteSnapshot();
}
