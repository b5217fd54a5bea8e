namespace Engine.Ring;

/// <summary>
/// Blocks waiting consumers on a monitor: zero CPU while idle, at the price of a lock acquisition on
/// every signal and a thread wake-up (microseconds) on every hand-off to a sleeping consumer.
/// <see cref="HybridWaitStrategy"/> keeps the idle behaviour but lets producers skip the lock when no one
/// is asleep.
/// </summary>
public sealed class BlockingWaitStrategy : IWaitStrategy
{
    private readonly object _gate = new();

    // Consumers currently inside the lock-and-wait path. Only for observation (tests, diagnostics): the
    // signalling protocol here does not depend on it.
    private int _blockedWaiterCount;

    /// <summary>How many consumers are in the blocking path right now.</summary>
    // Volatile.Read so an observer polling it sees the current count, not a value cached in a register.
    internal int BlockedWaiterCount => Volatile.Read(ref _blockedWaiterCount);

    /// <inheritdoc/>
    public long WaitFor(long sequence, Sequence cursor, ISequence dependentSequence, SequenceBarrier barrier)
    {
        long availableSequence;
        // Fast path: already available, no lock. Acquire read through Sequence.Value.
        if ((availableSequence = dependentSequence.Value) >= sequence)
        {
            return availableSequence;
        }

        lock (_gate)
        {
            // The check and Monitor.Wait happen under the same lock that SignalAllWhenBlocking takes
            // before pulsing, which prevents the lost wake-up: a signaller that advanced the sequence
            // after our check cannot pulse until we are inside Wait and have released the lock.
            // Interlocked keeps the observation counter exact with several waiters (paid only when blocking).
            Interlocked.Increment(ref _blockedWaiterCount);
            try
            {
                while ((availableSequence = dependentSequence.Value) < sequence)
                {
                    barrier.CheckAlert();
                    Monitor.Wait(_gate);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _blockedWaiterCount);
            }
        }

        return availableSequence;
    }

    /// <inheritdoc/>
    public void SignalAllWhenBlocking()
    {
        // Taking the lock orders our earlier sequence write before any waiter's re-check (see WaitFor).
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }
}
