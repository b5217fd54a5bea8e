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
    FasterIdempotencySpillStore? idempotencySpill,
    EngineMetrics metrics,
    ILogger logger) : IBatchEventHandler<CommandSlot>
{
    /// <summary>How often (engine time) the idempotency window is published for GetStatus while commands flow.</summary>
    internal const int WindowStatusIntervalMs = 1_000;
    // A shrinking window is warned about at most this often, so sustained overload does not flood the log.
    private const int WindowWarningIntervalMs = 60_000;

    private readonly EventBlockWriter _events = new(journal, options.JournalRecordBytesMax);
    private long _batchNowUnixMs;
    private long _lastSnapshotSequence = ledger.LastSequence;
    private long _lastSnapshotUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
    // "Long ago", with room to subtract from without overflowing.
    private long _windowPublishedUnixMs = long.MinValue / 2;
    private long _windowWarnedUnixMs = long.MinValue / 2;
    private long _windowWarnedEvictions;
    private IdempotencyWindowStatus? _window;

    /// <summary>
    /// The idempotency window as last published; any thread. The record is immutable and swapped whole, and the
    /// volatile read pairs with the volatile write in <see cref="PublishWindow"/> so a reader sees it fully built.
    /// The engine publishes once before the decide thread starts, so it is never null after construction.
    /// </summary>
    public IdempotencyWindowStatus Window => Volatile.Read(ref _window) ?? throw new InvalidOperationException("the idempotency window is published at engine start");

    // After a failed snapshot write: no new attempt before this engine time; the delay doubles per failure.
    private long _snapshotRetryAtUnixMs;
    private long _snapshotRetryDelayMs;

    /// <summary>First wait after a failed snapshot write; doubled per consecutive failure up to <see cref="SnapshotRetryDelayMaxMs"/>.</summary>
    public const long SnapshotRetryDelayMinMs = 1_000;
    /// <summary>Longest wait between snapshot attempts while they keep failing.</summary>
    public const long SnapshotRetryDelayMaxMs = 60_000;

    public void OnBatchStart(long batchSize)
    {
        // One clock read per batch: engine time is the batch's time (it is recorded in every event).
        _batchNowUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        metrics.RecordDecideBatch(batchSize);
    }

    public void OnEvent(ref CommandSlot slot, long sequence, bool endOfBatch)
    {
        slot.Reply = ledger.Execute(slot.Command, _batchNowUnixMs, _events);
        // An array increment: no lock, no allocation (EngineMetrics). Ticks are the engine's own, not commands.
        if (slot.Command.Type != CommandType.Tick) metrics.CountCommand(slot.Command.Type, slot.Reply.Status);
        if (!endOfBatch) return;
        _events.Flush();
        if (SnapshotDue()) TryTakeSnapshot("periodic");
        if (_batchNowUnixMs - _windowPublishedUnixMs >= WindowStatusIntervalMs) PublishWindow(_batchNowUnixMs);
    }

    /// <summary>
    /// Publishes the window for GetStatus and warns (rate-limited) when ids inside it were forgotten. On the decide
    /// thread, or before it starts / after it stopped.
    /// </summary>
    internal IdempotencyWindowStatus PublishWindow(long nowUnixMs)
    {
        LedgerOptions limits = options.Ledger;
        var window = new IdempotencyWindowStatus(ledger.IdempotencyEntryCount, ledger.IdempotencySpilledCount, ledger.IdempotencyOldestTimestampUnixMs,
            Math.Max(nowUnixMs, ledger.LastTimestampUnixMs), ledger.IdempotencyEvictedInsideWindow, limits.IdempotencyMinAgeMs, limits.IdempotencyMinEntries,
            idempotencySpill is not null, idempotencySpill?.DiskReads ?? 0, idempotencySpill?.NegativeDiskReads ?? 0);
        _windowPublishedUnixMs = nowUnixMs;
        Volatile.Write(ref _window, window);
        if (window.EvictedInsideWindow > _windowWarnedEvictions && nowUnixMs - _windowWarnedUnixMs >= WindowWarningIntervalMs)
        {
            logger.LogWarning("idempotency window below the configured one: {EvictedInsideWindow} request ids forgotten inside it " +
                "since start (Engine:Ledger:IdempotencyMaxEntries {IdempotencyMaxEntries} reached with " +
                "Engine:IdempotencySpill off); the oldest answerable id is {EffectiveWindowMs} ms old, configured " +
                "{IdempotencyMinAgeMs} ms or {IdempotencyMinEntries} ids. A retry older than that runs again.",
                window.EvictedInsideWindow, limits.IdempotencyMaxEntries, window.EffectiveWindowMs, limits.IdempotencyMinAgeMs, limits.IdempotencyMinEntries);
            _windowWarnedUnixMs = nowUnixMs;
            _windowWarnedEvictions = window.EvictedInsideWindow;
        }
        return window;
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
            logger.LogWarning("snapshot ({Reason}) at sequence {Sequence} FAILED: {Error}. The engine carries on (the journal " +
                "holds every event); next attempt in {RetryDelayMs} ms",
                reason, ledger.LastSequence, e.Message, _snapshotRetryDelayMs);
            return false;
        }
        _snapshotRetryDelayMs = 0;
        _snapshotRetryAtUnixMs = 0;
        _lastSnapshotSequence = ledger.LastSequence;
        _lastSnapshotUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        metrics.RecordSnapshot(_lastSnapshotUnixMs, (Environment.TickCount64 - started) / 1000.0);
        logger.LogInformation("snapshot ({Reason}) at sequence {Sequence}, journal address {JournalAddress}, {Bytes} bytes in " +
            "{ElapsedMs} ms",
            reason, info.Sequence, info.JournalAddress, info.BodyLength, Environment.TickCount64 - started);
        retention?.OnSnapshotsChanged();
        return true;
    }
}
