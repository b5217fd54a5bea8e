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
    // After a failed snapshot write: no new attempt before this engine time; the delay doubles per failure.
    private long _snapshotRetryAtUnixMs;
    private long _snapshotRetryDelayMs;

    /// <summary>First wait after a failed snapshot write; doubled per consecutive failure up to <see cref="SnapshotRetryDelayMaxMs"/>.</summary>
    public const long SnapshotRetryDelayMinMs = 1_000;
    /// <summary>Longest wait between snapshot attempts while they keep failing.</summary>
    public const long SnapshotRetryDelayMaxMs = 60_000;

    public void OnBatchStart(long batchSize) =>
        // One clock read per batch: engine time is the batch's time (it is recorded in every event).
        _batchNowUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds();

    public void OnEvent(ref CommandSlot slot, long sequence, bool endOfBatch)
    {
        slot.Reply = ledger.Execute(slot.Command, _batchNowUnixMs, _events);
        if (!endOfBatch) return;
        _events.Flush();
        if (SnapshotDue()) TryTakeSnapshot("periodic");
    }

    private bool SnapshotDue()
    {
        long newEvents = ledger.LastSequence - _lastSnapshotSequence;
        if (newEvents == 0) return false;
        if (_batchNowUnixMs < _snapshotRetryAtUnixMs) return false;
        if (options.SnapshotEveryEvents > 0 && newEvents >= options.SnapshotEveryEvents) return true;
        return options.SnapshotIntervalSeconds > 0 && _batchNowUnixMs - _lastSnapshotUnixMs >= options.SnapshotIntervalSeconds * 1000L;
    }

    /// <summary>
    /// Writes a snapshot covering every event applied so far. Commits the journal first: a snapshot must
    /// never contain an event the log might lose, or recovery would serve effects of unacknowledged commands.
    /// Runs on the decide thread (or after it stopped), so the ledger is not changing underneath it.
    /// </summary>
    /// <remarks>
    /// A failed snapshot write (I/O error, full disk) is not fatal: the journal still holds every event, so it is
    /// logged and retried after <see cref="SnapshotRetryDelayMinMs"/>, doubling up to <see cref="SnapshotRetryDelayMaxMs"/>.
    /// A failed journal commit is fatal and propagates (the engine fail-stops).
    /// </remarks>
    /// <returns>False when the snapshot write failed (logged).</returns>
    public bool TryTakeSnapshot(string reason)
    {
        _events.Flush();
        journal.Commit();
        long started = Environment.TickCount64;
        SnapshotInfo info;
        try
        {
            info = snapshots.Write(ledger.LastSequence, journal.TailAddress, ledger.WriteSnapshot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _snapshotRetryDelayMs = Math.Clamp(_snapshotRetryDelayMs * 2, SnapshotRetryDelayMinMs, SnapshotRetryDelayMaxMs);
            _snapshotRetryAtUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds() + _snapshotRetryDelayMs;
            log($"WARNING: snapshot ({reason}) at sequence {ledger.LastSequence} FAILED: {e.Message}. The engine carries on (the journal holds every event); next attempt in {_snapshotRetryDelayMs} ms");
            return false;
        }
        _snapshotRetryDelayMs = 0;
        _snapshotRetryAtUnixMs = 0;
        _lastSnapshotSequence = ledger.LastSequence;
        _lastSnapshotUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        log($"snapshot ({reason}) at sequence {info.Sequence}, journal address {info.JournalAddress}, {info.BodyLength} bytes in {Environment.TickCount64 - started} ms");
        retention?.OnSnapshotsChanged();
        return true;
    }
}
