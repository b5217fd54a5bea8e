using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Engine.Ring;

/// <summary>
/// The claim-and-publish protocol of the ring, independent of what the slots hold: many producers
/// claim slots by CAS on a shared cursor, fill them in parallel, and publish each slot by stamping
/// its lap number into a per-slot availability array. Producers never claim a slot that the slowest
/// gating sequence (the last stage) has not finished with.
/// </summary>
/// <remarks>
/// Why a per-slot availability array rather than just the cursor: with several producers the cursor
/// is the highest <em>claimed</em> slot, and claims are published out of order (producer A claims 7,
/// producer B claims 8 and publishes first). A consumer must see only the contiguous run of published
/// slots, so it checks each slot's stamp. The stamp is the lap number
/// (<c>sequence &gt;&gt; indexShift</c>), so a slot published on an earlier lap never looks published
/// for the current one and the array never needs resetting.
/// </remarks>
internal sealed class MultiProducerSequencer
{
    private readonly int _bufferSize;
    private readonly int _indexMask;
    private readonly int _indexShift;

    // One lap stamp per slot; -1 means "never published". Written by producers, read by consumers.
    private readonly int[] _availableBuffer;

    // Highest claimed sequence. Padded (it is a Sequence) because every producer CASes it and every
    // first-stage consumer reads it.
    private readonly Sequence _cursor = new();

    // The minimum of the gating sequences as last computed by some producer. Claims compare against
    // this cached value and only re-scan the gating sequences when the claim might wrap past it, so a
    // producer that is far from full does not touch the consumers' cache lines at all. Padded too.
    private readonly Sequence _gatingSequenceCache = new();

    // Copy-on-write: replaced, never mutated, so a claim can iterate it without a lock.
    private Sequence[] _gatingSequences = [];
    private readonly object _gatingSequencesLock = new();

    internal MultiProducerSequencer(int bufferSize)
    {
        Debug.Assert(bufferSize >= 1 && (bufferSize & (bufferSize - 1)) == 0, "validated by RingBuffer");
        _bufferSize = bufferSize;
        _indexMask = bufferSize - 1;
        _indexShift = System.Numerics.BitOperations.Log2((uint)bufferSize);
        _availableBuffer = new int[bufferSize];
        _availableBuffer.AsSpan().Fill(-1);
    }

    internal Sequence CursorSequence => _cursor;

    internal int BufferSize => _bufferSize;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal long Next(int n, CancellationToken cancellationToken)
    {
        ValidateClaimSize(n);
        SpinWait spinWait = default;
        while (true)
        {
            long current = _cursor.Value;
            long next = current + n;
            if (!HasCapacityFor(current, next))
            {
                // Full: the last stage has not freed enough slots. SpinWait backs off from spinning to
                // yielding to short sleeps, so a full ring costs little CPU on a two-core box and never
                // allocates. Cancellation is checked only here, off the fast path.
                cancellationToken.ThrowIfCancellationRequested();
                spinWait.SpinOnce();
                continue;
            }

            if (_cursor.CompareAndSet(current, next))
            {
                return next;
            }
            // Another producer claimed first: re-read the cursor and try again (lock-free, no back-off
            // needed: each failure means some producer made progress).
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryNext(int n, out long highSequence)
    {
        ValidateClaimSize(n);
        while (true)
        {
            long current = _cursor.Value;
            long next = current + n;
            if (!HasCapacityFor(current, next))
            {
                highSequence = Sequence.InitialValue;
                return false;
            }

            if (_cursor.CompareAndSet(current, next))
            {
                highSequence = next;
                return true;
            }
        }
    }

    internal void Publish(long sequence)
    {
        Debug.Assert(sequence >= 0 && sequence <= _cursor.Value, "only a claimed sequence can be published");
        SetAvailable(sequence);
    }

    internal void Publish(long lowSequence, long highSequence)
    {
        Debug.Assert(lowSequence >= 0 && lowSequence <= highSequence && highSequence <= _cursor.Value,
            "only a claimed range can be published");
        Debug.Assert(highSequence - lowSequence < _bufferSize, "a range never spans more than one lap");
        for (long sequence = lowSequence; sequence <= highSequence; sequence++)
        {
            SetAvailable(sequence);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool IsAvailable(long sequence)
    {
        int index = (int)(sequence & _indexMask);
        // Volatile.Read (acquire) pairs with the release in SetAvailable: a consumer that sees the stamp
        // also sees the slot contents the producer wrote before publishing, never stale ones.
        return Volatile.Read(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_availableBuffer), index))
            == AvailabilityFlag(sequence);
    }

    /// <summary>
    /// The highest sequence in <paramref name="lowSequence"/>..<paramref name="availableSequence"/> such
    /// that it and every sequence before it in the range are published; <c>lowSequence - 1</c> if
    /// <paramref name="lowSequence"/> itself is not.
    /// </summary>
    internal long GetHighestPublishedSequence(long lowSequence, long availableSequence)
    {
        for (long sequence = lowSequence; sequence <= availableSequence; sequence++)
        {
            if (!IsAvailable(sequence))
            {
                return sequence - 1;
            }
        }

        return availableSequence;
    }

    internal long RemainingCapacity()
    {
        long produced = _cursor.Value;
        // Volatile.Read of the array reference pairs with the release in AddGatingSequences, so we never
        // iterate an array whose elements are not yet visible.
        long consumed = SequenceGroup.Minimum(Volatile.Read(ref _gatingSequences), produced);
        return _bufferSize - (produced - consumed);
    }

    internal void AddGatingSequences(Sequence[] gatingSequences)
    {
        lock (_gatingSequencesLock)
        {
            Sequence[] current = _gatingSequences;
            Sequence[] updated = new Sequence[current.Length + gatingSequences.Length];
            current.CopyTo(updated, 0);
            gatingSequences.CopyTo(updated, current.Length);
            // Volatile.Write (release) prevents a producer from seeing the new array reference before
            // the array's elements have been written (it would read null entries).
            Volatile.Write(ref _gatingSequences, updated);
        }
    }

    /// <summary>
    /// Whether claiming up to <paramref name="next"/> keeps the ring from wrapping onto a slot the
    /// slowest gating sequence has not finished with. Refreshes the cached minimum when needed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool HasCapacityFor(long current, long next)
    {
        // The slot `next` reuses the slot of `wrapPoint`, one lap earlier; the last stage must be past it.
        long wrapPoint = next - _bufferSize;
        long cachedGatingSequence = _gatingSequenceCache.Value;
        // The second test catches a cache value from "the future" relative to a stale read of the
        // cursor, in which case the cache cannot be trusted either.
        if (wrapPoint <= cachedGatingSequence && cachedGatingSequence <= current)
        {
            return true;
        }

        // Volatile.Read of the array reference pairs with the release in AddGatingSequences.
        long gatingSequence = SequenceGroup.Minimum(Volatile.Read(ref _gatingSequences), current);
        // Volatile.Write (release) via SetValue; racing producers may store slightly different minima,
        // which is harmless: any of them is a value the gating sequences have really reached, and
        // sequences only grow, so the cache is never ahead of the truth.
        _gatingSequenceCache.SetValue(gatingSequence);
        return wrapPoint <= gatingSequence;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetAvailable(long sequence)
    {
        int index = (int)(sequence & _indexMask);
        // Volatile.Write (release) prevents the race where a consumer sees the slot as published before
        // the producer's writes into the slot are visible to it.
        Volatile.Write(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_availableBuffer), index),
            AvailabilityFlag(sequence));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int AvailabilityFlag(long sequence) => (int)((ulong)sequence >> _indexShift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ValidateClaimSize(int n)
    {
        // Always on (a compare on a hot path is cheap): a claim larger than the ring could never be
        // satisfied and would spin forever; n < 1 would corrupt the cursor.
        if ((uint)(n - 1) >= (uint)_bufferSize)
        {
            ThrowClaimSizeOutOfRange(n);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowClaimSizeOutOfRange(int n) =>
        throw new ArgumentOutOfRangeException(nameof(n), n, $"a claim must be between 1 and the buffer size {_bufferSize}");
}
