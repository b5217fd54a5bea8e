using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Engine.Ring;

/// <summary>
/// A bounded, multi-producer ring of pre-allocated struct slots, the spine of the engine: producers
/// claim a slot, write into it in place and publish it; consumer stages (<see cref="BatchEventProcessor{T}"/>)
/// read and update the slots in place, each behind the previous one, and the last stage's sequence gates
/// producers so they never overwrite a slot that is still in use.
/// </summary>
/// <remarks>
/// <para>Protocol for a producer: <c>long s = ring.Next(); ref T slot = ref ring[s]; /* fill */ ring.Publish(s);</c>.
/// Every claimed slot must be published, even if the producer decides to drop the work (publish a
/// no-op marker instead): an unpublished slot stalls every consumer behind it.</para>
/// <para>Wire gating sequences (<see cref="AddGatingSequences"/>) before the first claim. A ring with no
/// gating sequences never blocks producers, and overwrites slots freely.</para>
/// <para>Slots are reused: a producer must overwrite every field it relies on, since the slot holds
/// whatever the previous lap left there.</para>
/// </remarks>
/// <typeparam name="T">The slot type, a struct so the ring is one contiguous array with no per-slot object.</typeparam>
public sealed class RingBuffer<T>
    where T : struct
{
    // Extra unused slots before and after the real ones, at least 128 bytes each side, so the first and
    // last slots never share a cache line (or adjacent-line prefetch pair) with whatever object the
    // allocator put next to the array: prevents false sharing between the ring and unrelated hot data.
    private static readonly int SlotPadding = Math.Max(1, (128 + Unsafe.SizeOf<T>() - 1) / Unsafe.SizeOf<T>());

    private readonly T[] _entries;
    private readonly long _indexMask;
    private readonly MultiProducerSequencer _sequencer;
    private readonly IWaitStrategy _waitStrategy;

    // The same object as _waitStrategy when it is the hybrid strategy, whose fence-free signal is safe
    // after a claim (see HybridWaitStrategy.SignalAfterFullFence); null otherwise.
    private readonly HybridWaitStrategy? _hybridWaitStrategy;

    /// <summary>Creates a ring of <paramref name="bufferSize"/> slots, all <c>default(T)</c>.</summary>
    /// <param name="bufferSize">The number of slots: a power of two, at least 1.</param>
    /// <param name="waitStrategy">How consumers of this ring wait; producers signal it on publish.</param>
    /// <exception cref="ArgumentException"><paramref name="bufferSize"/> is not a positive power of two.</exception>
    public RingBuffer(int bufferSize, IWaitStrategy waitStrategy)
    {
        ArgumentNullException.ThrowIfNull(waitStrategy);
        if (bufferSize < 1 || (bufferSize & (bufferSize - 1)) != 0)
        {
            throw new ArgumentException($"buffer size must be a positive power of two, was {bufferSize}", nameof(bufferSize));
        }

        _entries = new T[checked(bufferSize + 2 * SlotPadding)];
        _indexMask = bufferSize - 1;
        _sequencer = new MultiProducerSequencer(bufferSize);
        _waitStrategy = waitStrategy;
        _hybridWaitStrategy = waitStrategy as HybridWaitStrategy;
    }

    /// <summary>The number of slots.</summary>
    public int BufferSize => _sequencer.BufferSize;

    /// <summary>The highest sequence claimed by any producer (not necessarily published yet).</summary>
    public long Cursor => _sequencer.CursorSequence.Value;

    /// <summary>The wait strategy consumers use; stages signal it after they advance.</summary>
    internal IWaitStrategy WaitStrategy => _waitStrategy;

    /// <summary>
    /// The slot for <paramref name="sequence"/>, by reference: read and write it in place, no copy.
    /// The index is masked into range, so there is no bounds check; the caller must own the sequence
    /// (claimed it, or received it from its barrier).
    /// </summary>
    public ref T this[long sequence]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_entries), SlotPadding + (int)(sequence & _indexMask));
    }

    /// <summary>
    /// Claims the next slot, waiting (spin, yield, short sleeps; never allocating) while the ring is full.
    /// The wait has no end of its own: if the last stage has stopped (halted, or faulted), it never
    /// returns. Callers that must not hang use <see cref="TryNext(out long)"/> or a cancellable overload.
    /// </summary>
    /// <returns>The claimed sequence; the caller must <see cref="Publish(long)"/> it.</returns>
    public long Next() => _sequencer.Next(1, CancellationToken.None);

    /// <summary>Claims the next slot, waiting while the ring is full until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <exception cref="OperationCanceledException">Cancelled while the ring was full; nothing was claimed.</exception>
    public long Next(CancellationToken cancellationToken) => _sequencer.Next(1, cancellationToken);

    /// <summary>
    /// Claims <paramref name="n"/> contiguous slots, waiting while the ring is full, and returns the
    /// highest; the claimed range is <c>high - n + 1 .. high</c>. Publish it with <see cref="Publish(long, long)"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not in 1..<see cref="BufferSize"/>.</exception>
    public long Next(int n) => _sequencer.Next(n, CancellationToken.None);

    /// <summary>Claims <paramref name="n"/> contiguous slots, waiting while the ring is full until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not in 1..<see cref="BufferSize"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while the ring was full; nothing was claimed.</exception>
    public long Next(int n, CancellationToken cancellationToken) => _sequencer.Next(n, cancellationToken);

    /// <summary>
    /// Claims the next slot if there is room, without waiting: returns <see langword="false"/> at once when
    /// the ring is full, so the edge can refuse work instead of queueing it.
    /// </summary>
    public bool TryNext(out long sequence) => _sequencer.TryNext(1, out sequence);

    /// <summary>Claims <paramref name="n"/> contiguous slots if there is room, without waiting.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not in 1..<see cref="BufferSize"/>.</exception>
    public bool TryNext(int n, out long highSequence) => _sequencer.TryNext(n, out highSequence);

    /// <summary>Publishes a claimed slot to the consumers and wakes any that are blocked.</summary>
    public void Publish(long sequence)
    {
        _sequencer.Publish(sequence);
        SignalConsumers();
    }

    /// <summary>Publishes a claimed range of slots (inclusive) with a single wake-up.</summary>
    public void Publish(long lowSequence, long highSequence)
    {
        _sequencer.Publish(lowSequence, highSequence);
        SignalConsumers();
    }

    /// <summary>Wakes consumers that sleep in the wait strategy, after a publish.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SignalConsumers()
    {
        // Every published sequence was claimed by a CAS on the cursor (a full fence) that a sleeping
        // first-stage consumer's wait condition depends on, so the hybrid strategy's own fence would
        // be redundant here.
        if (_hybridWaitStrategy is not null)
        {
            _hybridWaitStrategy.SignalAfterFullFence();
        }
        else
        {
            _waitStrategy.SignalAllWhenBlocking();
        }
    }

    /// <summary>Whether the slot for <paramref name="sequence"/> has been published on its current lap.</summary>
    public bool IsAvailable(long sequence) => sequence >= 0 && _sequencer.IsAvailable(sequence);

    /// <summary>
    /// The highest sequence in <paramref name="lowSequence"/>..<paramref name="availableSequence"/> such
    /// that it and all before it in the range are published, or <c>lowSequence - 1</c> if none is.
    /// </summary>
    public long GetHighestPublishedSequence(long lowSequence, long availableSequence) =>
        _sequencer.GetHighestPublishedSequence(lowSequence, availableSequence);

    /// <summary>How many slots could be claimed right now without waiting.</summary>
    public long RemainingCapacity() => _sequencer.RemainingCapacity();

    /// <summary>
    /// Adds sequences that producers must never wrap past: normally the last stage (or stages) of the
    /// pipeline. Call before the first claim.
    /// </summary>
    public void AddGatingSequences(params Sequence[] gatingSequences)
    {
        ArgumentNullException.ThrowIfNull(gatingSequences);
        foreach (Sequence sequence in gatingSequences)
        {
            ArgumentNullException.ThrowIfNull(sequence, nameof(gatingSequences));
        }

        _sequencer.AddGatingSequences(gatingSequences);
    }

    /// <summary>
    /// Creates a barrier for a new consumer stage. With no <paramref name="dependents"/> the stage waits
    /// for producers (published slots); otherwise it waits until every dependent stage has processed a
    /// slot, so it never overtakes them. Use one barrier per processor: halting alerts the barrier.
    /// </summary>
    public SequenceBarrier NewBarrier(params Sequence[] dependents)
    {
        ArgumentNullException.ThrowIfNull(dependents);
        foreach (Sequence sequence in dependents)
        {
            ArgumentNullException.ThrowIfNull(sequence, nameof(dependents));
        }

        return new SequenceBarrier(_sequencer, _waitStrategy, (Sequence[])dependents.Clone());
    }
}
