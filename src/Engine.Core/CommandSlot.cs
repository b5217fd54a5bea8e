using Engine.Domain;

namespace Engine.Core;

/// <summary>
/// One pre-allocated ring slot. The edge writes <see cref="Command"/> and who waits for the reply;
/// the decide stage writes <see cref="Reply"/>; the journal stage hands the reply over once the
/// journal stage has made the slot's events durable.
/// </summary>
internal struct CommandSlot
{
    public Command Command;
    public Reply Reply;
    /// <summary>
    /// Who waits for the reply (null for engine-internal commands such as Tick). Whoever completes the waiter takes it
    /// with <see cref="Interlocked.Exchange{T}(ref T, T)"/>: the journal stage and the fault drain may race for it.
    /// </summary>
    public ReplyBatch? Waiter;
    /// <summary>Where in the waiter's batch this reply goes.</summary>
    public int WaiterIndex;
}
