namespace Engine.Journal;

/// <summary>
/// Test seam under the engine's storage: called before each record is appended (on the appending thread: the engine's
/// decide stage), just before the journal makes a commit durable (the commit slot's <c>pwrite</c> + <c>fdatasync</c>,
/// after FASTER wrote the log data) and before a snapshot file is written. An
/// implementation throws (an <see cref="IOException"/> carrying EIO or ENOSPC, say) to make that step fail exactly as
/// the failing system call would: the journal records the failure, reports nothing durable past the last good commit,
/// and accepts no more work; a snapshot write fails and leaves no file behind. Production code passes none.
/// </summary>
public interface IStorageFaultInjector
{
    /// <summary>Before a record of <paramref name="payloadBytes"/> is appended; throwing fails that <see cref="EventJournal.Append"/>.</summary>
    void BeforeAppend(int payloadBytes);

    /// <summary>Before the commit covering the log up to <paramref name="untilAddress"/> is made durable.</summary>
    void BeforeCommitDurable(long untilAddress);

    /// <summary>Before the snapshot at <paramref name="sequence"/> is written.</summary>
    void BeforeSnapshotWrite(long sequence);
}
