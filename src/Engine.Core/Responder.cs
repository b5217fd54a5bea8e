namespace Engine.Core;

/// <summary>
/// Answers the slots of a committed batch on the journal thread, right after the fsync that made their events
/// durable: fills each reply into its waiter and drops the slot's references so the ring does not keep requests alive.
/// The waiters a batch fills are released together (<see cref="ReplyRelease"/>), so one commit costs a few thread-pool
/// hops, not one per caller, and the journal thread never runs a caller's continuation.
/// </summary>
/// <remarks>
/// This was a third pipeline stage on its own thread. On two cores that thread's spin-and-yield wait was a fifth of
/// the server's context switches and one more hand-off per commit (bench/RESULTS.md "Edge v4").
/// </remarks>
internal sealed class Responder
{
    private readonly ReplyRelease _release = new();

    public void Answer(ref CommandSlot slot)
    {
        // Taken atomically: after a fault the drain (CreditEngine.ReleaseUnanswered) may race this thread for the same
        // slot, and exactly one of the two may complete it (a second completion would count down a pooled batch that
        // may already belong to another caller).
        ReplyBatch? waiter = Interlocked.Exchange(ref slot.Waiter, null);
        slot.Command = default;
        if (waiter is not null && waiter.Fill(slot.WaiterIndex, slot.Reply)) _release.Add(waiter);
    }

    /// <summary>Releases the waiters filled since the last call.</summary>
    public void Dispatch() => _release.Dispatch();
}
