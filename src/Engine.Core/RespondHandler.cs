using Engine.Ring;

namespace Engine.Core;

/// <summary>
/// Stage 3: gated on the journal stage, so every reply it releases is for a durable event. Hands each
/// reply to its waiter and drops the slot's references so the ring does not keep requests alive.
/// </summary>
internal sealed class RespondHandler : IBatchEventHandler<CommandSlot>
{
    public void OnEvent(ref CommandSlot slot, long sequence, bool endOfBatch)
    {
        // Taken atomically: after a fault the drain (CreditEngine.ReleaseUnanswered) may race this thread for the same
        // slot, and exactly one of the two may complete it (a second completion would count down a pooled batch that
        // may already belong to another caller).
        ReplyBatch? waiter = Interlocked.Exchange(ref slot.Waiter, null);
        slot.Command = default;
        waiter?.Complete(slot.WaiterIndex, slot.Reply);
    }
}
