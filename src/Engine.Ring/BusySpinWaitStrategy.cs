namespace Engine.Ring;

/// <summary>
/// Spins on the sequence without ever giving up the core: the lowest hand-off latency and the highest
/// cost, since a waiting consumer keeps a core at 100%. Use only when every spinning thread has a core
/// of its own; on a machine with fewer cores than spinning threads it starves the very producer it is
/// waiting for.
/// </summary>
public sealed class BusySpinWaitStrategy : IWaitStrategy
{
    /// <inheritdoc/>
    public long WaitFor(long sequence, Sequence cursor, ISequence dependentSequence, SequenceBarrier barrier)
    {
        long availableSequence;
        // dependentSequence.Value is an acquire read (see Sequence.Value), so once we see the new value
        // we also see the slot writes published before it.
        while ((availableSequence = dependentSequence.Value) < sequence)
        {
            barrier.CheckAlert();
            // A PAUSE hint: lets the sibling hyper-thread run and avoids the memory-order machine clear
            // when the value finally changes. It does not give the core away.
            Thread.SpinWait(1);
        }

        return availableSequence;
    }

    /// <inheritdoc/>
    /// <remarks>Nothing to do: waiters never block.</remarks>
    public void SignalAllWhenBlocking()
    {
    }
}
