using System.Collections.Concurrent;

namespace Engine.Core;

/// <summary>
/// Collects the reply batches one commit filled and releases them on thread-pool work items: one per
/// <see cref="PerWorkItemMin"/> batches, at most one per core, each running its callers' continuations inline. A hop
/// per caller (what <c>RunContinuationsAsynchronously</c> gives) costs a work item and often a worker wake-up for every
/// unary call; this costs a few per commit. Used by the journal thread only.
/// </summary>
internal sealed class ReplyRelease
{
    /// <summary>Fewer batches than this share one work item: a wake-up costs more than running a few continuations.</summary>
    internal const int PerWorkItemMin = 8;

    private ReplyBatch[] _pending = new ReplyBatch[64];
    private int _count;

    public void Add(ReplyBatch batch)
    {
        if (_count == _pending.Length) Array.Resize(ref _pending, _pending.Length * 2);
        _pending[_count++] = batch;
    }

    /// <summary>Queues the pending batches for release and forgets them.</summary>
    public void Dispatch()
    {
        int count = _count;
        if (count == 0) return;
        int items = Math.Clamp(count / PerWorkItemMin, 1, Environment.ProcessorCount);
        int start = 0;
        for (int i = 0; i < items; i++)
        {
            int end = count * (i + 1) / items;
            ThreadPool.UnsafeQueueUserWorkItem(WorkItem.Rent(_pending.AsSpan(start, end - start)), preferLocal: false);
            start = end;
        }
        Array.Clear(_pending, 0, count);
        _count = 0;
    }

    private sealed class WorkItem : IThreadPoolWorkItem
    {
        private static readonly ConcurrentBag<WorkItem> Pool = new();
        private const int PoolCapacity = 256;

        private ReplyBatch[] _batches = new ReplyBatch[16];
        private int _count;

        public static WorkItem Rent(ReadOnlySpan<ReplyBatch> batches)
        {
            if (!Pool.TryTake(out WorkItem? item)) item = new WorkItem();
            if (item._batches.Length < batches.Length) item._batches = new ReplyBatch[Math.Max(batches.Length, item._batches.Length * 2)];
            batches.CopyTo(item._batches);
            item._count = batches.Length;
            return item;
        }

        public void Execute()
        {
            int count = _count;
            ReplyBatch[] batches = _batches;
            for (int i = 0; i < count; i++)
            {
                ReplyBatch batch = batches[i];
                batches[i] = null!;
                // A continuation that throws is the caller's bug, surfaced on its own task; it must not keep the rest
                // of this pass's callers waiting.
                try { batch.Release(); }
                catch (Exception exception) { ThreadPool.UnsafeQueueUserWorkItem(static e => throw e, exception, preferLocal: false); }
            }
            _count = 0;
            if (Pool.Count < PoolCapacity) Pool.Add(this);
        }
    }
}
