namespace Engine.Core;

/// <summary>What start-up may do with a damaged journal. Configuration section <c>Engine:Recovery</c>.</summary>
public sealed class RecoveryOptions
{
    /// <summary>
    /// Off by default. The journal is read only up to its committed (fsync'd) end, so a tail that fails verification
    /// there is damage to acknowledged commands (a disk or file system that lost acknowledged writes), not a crash
    /// artefact: start-up stops with <see cref="CommittedTailDamagedException"/>. An operator who has decided to lose
    /// those events (no replica or backup holds them) sets this to true and restarts: the log is cut at the first
    /// damaged record, the journal's log epoch rises by one, and the engine carries on from the last good event.
    /// </summary>
    public bool CutDamagedTail { get; set; }

    /// <summary>
    /// Code-only hook, called with the last good sequence just before a damaged tail is cut (and so before the cut is
    /// durable): whoever keeps state derived from the log (the server's read-model snapshots) deletes what holds
    /// events after it. Throwing stops start-up before anything is cut.
    /// </summary>
    public Action<long>? BeforeCut { get; set; }
}
