using System.Runtime.CompilerServices;

namespace Engine.Domain;

/// <summary>
/// A FIFO whose items keep their absolute position (0, 1, 2, … in enqueue order) for life, so an index can point at
/// an item by position and read it in O(1) (<see cref="At"/>). Items live in fixed-size chunks found through a small
/// circular array of chunk references: growing adds a chunk and never copies items, and a chunk the head has left is
/// kept as a spare for the tail, so a steady-state FIFO allocates nothing. Chunks for the expected size are allocated
/// up front: a chunk is a large object, and allocating them as the queue fills would trigger full collections on the
/// decide thread's heap.
/// </summary>
internal sealed class PositionalQueue<T> where T : struct
{
    private const int ChunkBits = 14;
    private const int ChunkSize = 1 << ChunkBits;
    private const long ChunkMask = ChunkSize - 1;

    // Chunk number c (= position >> ChunkBits) lives at _chunks[c & (_chunks.Length - 1)]; the array is a power of two
    // longer than the live chunk count, doubled when the tail would wrap onto the head.
    private T[]?[] _chunks = new T[]?[16];
    // Chunks ready for the tail: the ones allocated up front and those the head has left (at most that many, plus one).
    private readonly Stack<T[]> _spares = new();
    private readonly int _sparesMax;

    /// <param name="expectedItems">Items expected at once; their chunks are allocated now.</param>
    public PositionalQueue(long expectedItems = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedItems);
        _sparesMax = (int)Math.Min(int.MaxValue, (expectedItems + ChunkSize - 1) / ChunkSize) + 1;
        for (int i = 1; i < _sparesMax; i++) _spares.Push(new T[ChunkSize]);
    }

    /// <summary>Position of the oldest item (equal to <see cref="TailPosition"/> when empty).</summary>
    /// <summary>The chunks allocated up front, for <see cref="PagePrefault"/>; before the queue is first used.</summary>
    internal void AddPrefaultRegions(List<PagePrefault.Region> regions)
    {
        foreach (T[] spare in _spares) regions.Add(PagePrefault.Region.Of(spare));
    }

    public long HeadPosition { get; private set; }
    /// <summary>Position the next enqueued item gets.</summary>
    public long TailPosition { get; private set; }
    public long Count => TailPosition - HeadPosition;

    /// <summary>The item at <paramref name="position"/>, which must be in [<see cref="HeadPosition"/>, <see cref="TailPosition"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T At(long position)
    {
        System.Diagnostics.Debug.Assert(position >= HeadPosition && position < TailPosition, "position outside the queue");
        T[]?[] chunks = _chunks;
        return ref chunks[(position >> ChunkBits) & (chunks.Length - 1)]![position & ChunkMask];
    }

    /// <summary>Appends <paramref name="item"/> and returns its position.</summary>
    public long Enqueue(in T item)
    {
        long position = TailPosition;
        if ((position & ChunkMask) == 0) AddChunk(position >> ChunkBits);
        TailPosition = position + 1;
        At(position) = item;
        return position;
    }

    /// <summary>Takes back the newest item (undoing an <see cref="Enqueue"/> whose index insert failed).</summary>
    public void DropNewest()
    {
        if (Count == 0) throw new InvalidOperationException("the queue is empty");
        At(TailPosition - 1) = default;
        TailPosition--;
    }

    public ref T Peek()
    {
        if (Count == 0) throw new InvalidOperationException("the queue is empty");
        return ref At(HeadPosition);
    }

    public void Dequeue()
    {
        if (Count == 0) throw new InvalidOperationException("the queue is empty");
        long position = HeadPosition;
        At(position) = default;
        HeadPosition = position + 1;
        // Leaving a chunk (or emptying the queue mid-chunk keeps it: the tail still writes into it).
        if (((position + 1) & ChunkMask) == 0)
        {
            long chunk = position >> ChunkBits;
            ref T[]? reference = ref _chunks[chunk & (_chunks.Length - 1)];
            if (_spares.Count < _sparesMax) _spares.Push(reference!);
            reference = null;
        }
    }

    private void AddChunk(long chunk)
    {
        long headChunk = HeadPosition >> ChunkBits;
        if (chunk - headChunk >= _chunks.Length)
        {
            // The circular array is full of live chunks: double it and place each live chunk by its number again.
            var grown = new T[]?[_chunks.Length * 2];
            for (long c = headChunk; c < chunk; c++) grown[c & (grown.Length - 1)] = _chunks[c & (_chunks.Length - 1)];
            _chunks = grown;
        }
        _chunks[chunk & (_chunks.Length - 1)] = _spares.Count > 0 ? _spares.Pop() : new T[ChunkSize];
    }
}
