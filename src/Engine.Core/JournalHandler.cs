using System.Diagnostics;
using Engine.Journal;
using Engine.Ring;

namespace Engine.Core;

/// <summary>
/// Stage 2: group commit, then answer. Does nothing per slot; at the end of each batch it commits (fsyncs) the
/// journal, which covers every event the decide stage appended for the slots of this batch and any before them, and
/// then answers the batch's slots (<see cref="Responder"/>) — so every reply it releases is for a durable event. The
/// busier the engine, the more slots one fsync covers.
/// </summary>
internal sealed class JournalHandler(EventJournal journal, EngineMetrics metrics, RingBuffer<CommandSlot> ring) : IBatchEventHandler<CommandSlot>
{
    private readonly Responder _responder = new();
    private long _batchSize;

    public long Commits { get; private set; }

    public void OnBatchStart(long batchSize) => _batchSize = batchSize;

    public void OnEvent(ref CommandSlot slot, long sequence, bool endOfBatch)
    {
        if (!endOfBatch) return;
        long started = Stopwatch.GetTimestamp();
        // A failed commit throws: nothing of this batch is answered, and the fault drain answers it UNAVAILABLE.
        journal.Commit();
        // Per commit, not per command: one timestamp pair and two histogram records per fsync.
        metrics.RecordCommit(_batchSize, Stopwatch.GetElapsedTime(started).TotalSeconds);
        Commits++;
        for (long s = sequence - _batchSize + 1; s <= sequence; s++) _responder.Answer(ref ring[s]);
        _responder.Dispatch();
    }

    // An answer that threw (a bug) must not leave the waiters filled before it unreleased: the fault drain skips them.
    public void OnShutdown() => _responder.Dispatch();
}
