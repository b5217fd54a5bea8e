using Engine.Domain;
using Engine.Journal;
using Engine.Ring;

namespace Engine.Core;

/// <summary>
/// Stage 1, the single writer: the only thread that touches the ledger. Executes each command, encodes
/// its events, and at the end of each ring batch appends them to the journal (without waiting for
/// fsync — the journal stage does that). Takes snapshots between batches, and after each one tells journal retention
/// (when on) which snapshots are kept; the truncation itself runs on the retention thread.
/// </summary>
internal sealed class DecideHandler(
    Ledger ledger,
    EventJournal journal,
    SnapshotStore snapshots,
    EngineOptions options,
    TimeProvider clock,
    JournalRetention? retention,
    Action<string> log) : IBatchEventHandler<CommandSlot>
{
    private readonly EventBlockWriter _events = new(journal, options.JournalRecordBytesMax);
    private long _batchNowUnixMs;
    private long _lastSnapshotSequence = ledger.LastSequence;
    private long _lastSnapshotUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds();

    public void OnBatchStart(long batchSize) =>
        // One clock read per batch: engine time is the batch's time (it is recorded in every event).
        _batchNowUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds();

    public void OnEvent(ref CommandSlot slot, long sequence, bool endOfBatch)
    {
        slot.Reply = ledger.Execute(slot.Command, _batchNowUnixMs, _events);
        if (!endOfBatch) return;
        _events.Flush();
        if (SnapshotDue()) TakeSnapshot("periodic");
    }

    private bool SnapshotDue()
    {
        long newEvents = ledger.LastSequence - _lastSnapshotSequence;
        if (newEvents == 0) return false;
        if (options.SnapshotEveryEvents > 0 && newEvents >= options.SnapshotEveryEvents) return true;
        return options.SnapshotIntervalSeconds > 0 && _batchNowUnixMs - _lastSnapshotUnixMs >= options.SnapshotIntervalSeconds * 1000L;
    }

    /// <summary>
    /// Writes a snapshot covering every event applied so far. Commits the journal first: a snapshot must
    /// never contain an event the log might lose, or recovery would serve effects of unacknowledged commands.
    /// Runs on the decide thread (or after it stopped), so the ledger is not changing underneath it.
    /// </summary>
    public void TakeSnapshot(string reason)
    {
        _events.Flush();
        journal.Commit();
        long started = Environment.TickCount64;
        SnapshotInfo info = snapshots.Write(ledger.LastSequence, journal.TailAddress, ledger.WriteSnapshot);
        _lastSnapshotSequence = ledger.LastSequence;
        _lastSnapshotUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        log($"snapshot ({reason}) at sequence {info.Sequence}, journal address {info.JournalAddress}, {info.BodyLength} bytes in {Environment.TickCount64 - started} ms");
        retention?.OnSnapshotsChanged();
    }
}
