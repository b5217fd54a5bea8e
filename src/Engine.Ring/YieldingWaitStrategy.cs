namespace Engine.Ring;

/// <summary>
/// Spins a little, then calls <see cref="Thread.Yield"/> between checks: good latency while letting
/// other ready threads on the same core run. An idle consumer still uses CPU (it keeps re-checking), so
/// prefer <see cref="HybridWaitStrategy"/> when the engine may sit idle.
/// </summary>
public sealed class YieldingWaitStrategy : IWaitStrategy
{
    /// <summary>Default number of pure spins before the first yield.</summary>
    public const int DefaultSpinTries = 100;

    private readonly int _spinTries;

    /// <summary>Creates the strategy; <paramref name="spinTries"/> checks spin before yielding starts.</summary>
    public YieldingWaitStrategy(int spinTries = DefaultSpinTries)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(spinTries);
        _spinTries = spinTries;
    }

    /// <inheritdoc/>
    public long WaitFor(long sequence, Sequence cursor, ISequence dependentSequence, SequenceBarrier barrier)
    {
        int spinsLeft = _spinTries;
        long availableSequence;
        // Acquire read through Sequence.Value: seeing the new value implies seeing the slot writes.
        while ((availableSequence = dependentSequence.Value) < sequence)
        {
            barrier.CheckAlert();
            if (spinsLeft > 0)
            {
                spinsLeft--;
                Thread.SpinWait(1);
            }
            else
            {
                Thread.Yield();
            }
        }

        return availableSequence;
    }

    /// <inheritdoc/>
    /// <remarks>Nothing to do: waiters never block.</remarks>
    public void SignalAllWhenBlocking()
    {
    }
}
