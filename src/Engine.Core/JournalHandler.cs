using System.Diagnostics;
using Engine.Journal;
using Engine.Ring;

namespace Engine.Core;

/// <summary>
/// Stage 2: group commit. Does nothing per slot; at the end of each batch it commits (fsyncs) the journal,
/// which covers every event the decide stage appended for the slots of this batch and any before them.
/// The busier the engine, the more slots one fsync covers.
/// </summary>
internal sealed class JournalHandler(EventJournal journal, EngineMetrics metrics) : IBatchEventHandler<CommandSlot>
{
    private long _batchSize;

    public long Commits { get; private set; }

    public void OnBatchStart(long batchSize) => _batchSize = batchSize;

    public void OnEvent(ref CommandSlot slot, long sequence, bool endOfBatch)
    {
        if (!endOfBatch) return;
        long started = Stopwatch.GetTimestamp();
        journal.Commit();
        // Per commit, not per command: one timestamp pair and two histogram records per fsync.
        metrics.RecordCommit(_batchSize, Stopwatch.GetElapsedTime(started).TotalSeconds);
        Commits++;
    }
}
