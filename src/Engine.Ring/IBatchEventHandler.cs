namespace Engine.Ring;

/// <summary>
/// The logic of one consumer stage, run by a <see cref="BatchEventProcessor{T}"/> on its own thread.
/// It receives each slot by reference (no copy, no allocation) and learns where each batch ends, so it
/// can amortise a fixed cost (an fsync, a flush) over the whole batch.
/// </summary>
/// <typeparam name="T">The ring's slot type.</typeparam>
public interface IBatchEventHandler<T>
    where T : struct
{
    /// <summary>
    /// Processes one slot. <paramref name="endOfBatch"/> is <see langword="true"/> on the last slot of the
    /// batch: the moment to commit. Throwing stops the processor (fail-stop) without advancing its
    /// sequence past the batch.
    /// </summary>
    void OnEvent(ref T slot, long sequence, bool endOfBatch);

    /// <summary>Called before the first slot of each batch with the number of slots in it.</summary>
    void OnBatchStart(long batchSize)
    {
    }

    /// <summary>Called once on the processor thread before the first batch.</summary>
    void OnStart()
    {
    }

    /// <summary>Called once on the processor thread just before it exits (after a halt or a fault).</summary>
    void OnShutdown()
    {
    }
}
