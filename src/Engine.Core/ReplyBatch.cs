using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using Engine.Domain;

namespace Engine.Core;

/// <summary>
/// A pooled, reusable completion for one submission of N commands: N reply cells and one awaitable that
/// completes when all of them are filled — by the journal thread, or by the submitting thread for commands
/// refused before they entered the ring. The countdown is atomic because those two threads can both
/// finish cells of one batch; <see cref="ManualResetValueTaskSourceCore{TResult}"/> publishes the writes.
/// Continuations run on the thread that releases the batch: the journal stage never releases one itself, it hands the
/// batches a pass filled to <see cref="ReplyRelease"/>, which releases them on a few thread-pool work items (one hop per
/// pass, not one per caller).
/// </summary>
internal sealed class ReplyBatch : IValueTaskSource<int>
{
    private static readonly ConcurrentBag<ReplyBatch> Pool = new();
    private const int PoolCapacity = 4096;

    private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = false };
    private Reply[] _replies = new Reply[1];
    private int _remaining;
    private int _count;

    public static ReplyBatch Rent(int count)
    {
        if (!Pool.TryTake(out ReplyBatch? batch)) batch = new ReplyBatch();
        batch.Reset(count);
        return batch;
    }

    public ReadOnlySpan<Reply> Replies => _replies.AsSpan(0, _count);

    public ValueTask<int> Task => new(this, _core.Version);

    private void Reset(int count)
    {
        if (_replies.Length < count) _replies = new Reply[count];
        _count = count;
        _remaining = count;
        _core.Reset();
    }

    /// <summary>
    /// Fills one cell (the journal thread, or the fault drain). Returns true when that was the last cell: the caller then
    /// owns the release and must call <see cref="Release"/> exactly once, on a thread where running the awaiting caller's
    /// continuation inline is acceptable (not the journal thread).
    /// </summary>
    public bool Fill(int index, in Reply reply)
    {
        _replies[index] = reply;
        int remaining = Interlocked.Decrement(ref _remaining);
        // Always on: an extra completion would hand a caller a batch whose replies are not all filled in.
        if (remaining < 0) throw new InvalidOperationException($"reply batch completed {-remaining} time(s) more than it has commands ({_count})");
        return remaining == 0;
    }

    /// <summary>Completes the awaitable; the awaiting caller's continuation runs inline on this thread.</summary>
    public void Release() => _core.SetResult(_count);

    /// <summary>
    /// Fills cells the pipeline will never see (refused before publication) on the submitting thread, before it awaits —
    /// so a release here completes synchronously and runs no continuation.
    /// </summary>
    public void CompleteUnpublished(int fromIndex, in Reply reply)
    {
        for (int i = fromIndex; i < _count; i++) _replies[i] = reply;
        int remaining = Interlocked.Add(ref _remaining, -(_count - fromIndex));
        if (remaining == 0) _core.SetResult(_count);
        else if (remaining < 0) throw new InvalidOperationException($"reply batch completed {-remaining} time(s) more than it has commands ({_count})");
    }

    public void Return()
    {
        if (Pool.Count < PoolCapacity) Pool.Add(this);
    }

    int IValueTaskSource<int>.GetResult(short token) => _core.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _core.GetStatus(token);
    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
