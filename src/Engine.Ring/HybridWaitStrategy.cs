namespace Engine.Ring;

/// <summary>
/// Spins, then yields, then blocks on a monitor; producers pay for the monitor only when a consumer is
/// actually asleep. Busy traffic is handed off within the spin or yield phase at low latency, an idle
/// engine uses no CPU, and the common publish costs one fence and one read of a counter. This is the
/// default on a two-core machine, where pure spinning would starve the producers.
/// </summary>
/// <remarks>
/// The producer/consumer hand-shake is a Dekker pattern: the consumer writes "I am blocked" then reads
/// the sequence; the producer writes the sequence then reads "is anyone blocked". Both sides use a full
/// fence between their write and their read, so at least one of them sees the other's write: either the
/// consumer sees the new sequence and does not sleep, or the producer sees the blocked counter and pulses.
/// </remarks>
public sealed class HybridWaitStrategy : IWaitStrategy
{
    /// <summary>Default number of spin checks before yielding.</summary>
    public const int DefaultSpinIterations = 100;

    /// <summary>Default number of yield checks before blocking.</summary>
    public const int DefaultYieldIterations = 50;

    private readonly int _spinIterations;
    private readonly int _yieldIterations;
    private readonly object _gate = new();

    // Number of consumers inside the blocking phase. Written with Interlocked, read by producers.
    private int _blockedWaiterCount;

    /// <summary>How many consumers are in the blocking phase right now (for tests and diagnostics).</summary>
    // Volatile.Read so an observer polling it sees the current count, not a value cached in a register.
    internal int BlockedWaiterCount => Volatile.Read(ref _blockedWaiterCount);

    /// <summary>
    /// Creates the strategy. A waiter checks <paramref name="spinIterations"/> times with a CPU pause,
    /// then <paramref name="yieldIterations"/> times with <see cref="Thread.Yield"/>, then blocks.
    /// </summary>
    public HybridWaitStrategy(int spinIterations = DefaultSpinIterations, int yieldIterations = DefaultYieldIterations)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(spinIterations);
        ArgumentOutOfRangeException.ThrowIfNegative(yieldIterations);
        _spinIterations = spinIterations;
        _yieldIterations = yieldIterations;
    }

    /// <inheritdoc/>
    public long WaitFor(long sequence, Sequence cursor, ISequence dependentSequence, SequenceBarrier barrier)
    {
        long availableSequence;
        // Sequence.Value is an acquire read: seeing the new value implies seeing the slot writes.
        for (int i = 0; i < _spinIterations; i++)
        {
            if ((availableSequence = dependentSequence.Value) >= sequence)
            {
                return availableSequence;
            }

            barrier.CheckAlert();
            Thread.SpinWait(1);
        }

        for (int i = 0; i < _yieldIterations; i++)
        {
            if ((availableSequence = dependentSequence.Value) >= sequence)
            {
                return availableSequence;
            }

            barrier.CheckAlert();
            Thread.Yield();
        }

        return WaitBlocking(sequence, dependentSequence, barrier);
    }

    /// <inheritdoc/>
    public void SignalAllWhenBlocking()
    {
        // Full fence between the caller's earlier write (the published slot, a stage's sequence, the
        // alert flag) and our read of the counter below. Without it the CPU may perform the read before
        // the write is visible (store-load reordering, allowed even on x86), and a consumer that
        // registered itself and then read the old sequence would sleep with nobody left to wake it (a
        // lost wake-up). On x64 this is a locked instruction on our own stack: no shared cache line.
        Interlocked.MemoryBarrier();
        // Volatile.Read prevents the JIT from caching the counter across calls. Zero means no consumer
        // is asleep, so the producer skips the lock entirely: the common, busy case.
        if (Volatile.Read(ref _blockedWaiterCount) != 0)
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    private long WaitBlocking(long sequence, ISequence dependentSequence, SequenceBarrier barrier)
    {
        long availableSequence;
        lock (_gate)
        {
            // Interlocked.Increment is a full fence: our registration becomes visible before the
            // re-check of the sequence below (the consumer half of the Dekker hand-shake). Holding the
            // lock while registering means a producer that sees the counter cannot pulse until we are
            // inside Monitor.Wait, so its pulse cannot fall between our check and our wait.
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
                // Interlocked keeps the counter exact when several consumers leave at once.
                Interlocked.Decrement(ref _blockedWaiterCount);
            }
        }

        return availableSequence;
    }
}
