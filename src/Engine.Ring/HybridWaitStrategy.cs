namespace Engine.Ring;

/// <summary>
/// Spins, then yields, then blocks on a monitor; producers pay for the monitor only when a consumer is
/// actually asleep. Busy traffic is handed off within the spin or yield phase at low latency, an idle
/// engine uses no CPU, and the common publish costs a read of one flag. This is the default on a two-core
/// machine, where pure spinning would starve the producers.
/// </summary>
/// <remarks>
/// <para>The hand-shake is a Dekker pattern. A consumer about to sleep sets the "signal needed" flag, then
/// re-reads the sequence it waits on; a signaller writes its sequence, then reads the flag. Both sides
/// put a full fence between their write and their read, so at least one sees the other's write: either
/// the consumer sees the new sequence and does not sleep, or the signaller sees the flag and pulses.</para>
/// <para>The first signaller to see the flag clears it and pulses every sleeper, so a stream of publishes
/// pays for one lock per sleep, not one per publish while the sleeper is waking up. Every woken consumer
/// sets the flag again before it re-checks, if it must go back to sleep.</para>
/// </remarks>
public sealed class HybridWaitStrategy : IWaitStrategy
{
    /// <summary>Default number of spin checks before yielding (a few microseconds).</summary>
    public const int DefaultSpinIterations = 100;

    /// <summary>Default number of yield checks before blocking (tens of microseconds when the core is free).</summary>
    public const int DefaultYieldIterations = 50;

    private readonly int _spinIterations;
    private readonly int _yieldIterations;
    private readonly object _gate = new();

    // 1 when at least one consumer may be asleep (or about to sleep) on _gate. Set by consumers and
    // cleared by the signaller that takes on the job of waking them, both with Interlocked.Exchange.
    private int _signalNeeded;

    // Consumers inside the blocking phase. Only for observation (tests, diagnostics): the signalling
    // protocol uses _signalNeeded.
    private int _blockedWaiterCount;

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

    /// <summary>How many consumers are in the blocking phase right now (for tests and diagnostics).</summary>
    // Volatile.Read so an observer polling it sees the current count, not a value cached in a register.
    internal int BlockedWaiterCount => Volatile.Read(ref _blockedWaiterCount);

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
        // Full fence between the caller's earlier write (a stage's sequence, the alert flag) and our read
        // of the flag. Without it the CPU may perform the read before the write is visible (store-load
        // reordering, allowed even on x86), and a consumer that set the flag and then read the old
        // sequence would sleep with nobody left to wake it: a lost wake-up.
        Interlocked.MemoryBarrier();
        SignalAfterFullFence();
    }

    /// <summary>
    /// <see cref="SignalAllWhenBlocking"/> without its fence, for a caller whose progress is already
    /// ordered before this call by a full fence. The ring's producers are such callers: what a
    /// first-stage consumer waits on is the cursor, and every claim advances it with a CAS, a full fence,
    /// before the producer publishes and signals. Skipping the redundant fence halves the cost of an
    /// uncontended claim-and-publish (about 7 ns each on the development machine).
    /// </summary>
    internal void SignalAfterFullFence()
    {
        // Volatile.Read keeps the JIT from caching the flag; zero means nobody is asleep, so the busy
        // path skips the Interlocked.Exchange below and never writes the flag's cache line. Exchange then
        // lets exactly one signaller take on the pulse when several see the flag at once.
        if (Volatile.Read(ref _signalNeeded) != 0 && Interlocked.Exchange(ref _signalNeeded, 0) != 0)
        {
            // Consumers set the flag while holding this lock and keep holding it until Monitor.Wait
            // releases it, so our PulseAll cannot fall between a consumer's check and its wait.
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
            // Interlocked only to keep the observation counter exact with several consumers.
            Interlocked.Increment(ref _blockedWaiterCount);
            try
            {
                while (true)
                {
                    // Interlocked.Exchange is a full fence: the flag is visible before we re-read the
                    // sequence below (the consumer half of the Dekker hand-shake). Set again on every
                    // pass, because the signaller that woke us cleared it.
                    Interlocked.Exchange(ref _signalNeeded, 1);
                    if ((availableSequence = dependentSequence.Value) >= sequence)
                    {
                        break;
                    }

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
}
