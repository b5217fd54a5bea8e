namespace Engine.Ring;

/// <summary>
/// How a consumer waits for a sequence to become available: burn a core for the lowest latency,
/// yield, or block on a monitor. The choice trades latency against CPU; on a two-core machine the
/// <see cref="HybridWaitStrategy"/> is the default.
/// </summary>
public interface IWaitStrategy
{
    /// <summary>
    /// Waits until <paramref name="dependentSequence"/> (the minimum of the upstream stages, or the
    /// ring's cursor when there are none) is at least <paramref name="sequence"/>, and returns its value,
    /// which may be higher than <paramref name="sequence"/>.
    /// </summary>
    /// <exception cref="AlertException">The barrier was alerted while waiting.</exception>
    long WaitFor(long sequence, Sequence cursor, ISequence dependentSequence, SequenceBarrier barrier);

    /// <summary>
    /// Wakes any consumer blocked in <see cref="WaitFor"/>. Called by producers after publishing, by
    /// stages after advancing their sequence, and by <see cref="SequenceBarrier.Alert"/>.
    /// </summary>
    void SignalAllWhenBlocking();
}
