namespace Engine.Domain;

/// <summary>
/// A FIFO of fixed-size chunks: growing allocates one more chunk and never copies, unlike
/// <see cref="Queue{T}"/>, which copies its whole array when it doubles (tens of megabytes for millions of ids).
/// </summary>
public sealed class ChunkedQueue<T>
{
    private const int ChunkSize = 16_384;

    private sealed class Chunk
    {
        public readonly T[] Items = new T[ChunkSize];
        public Chunk? Next;
    }

    private Chunk _head = new();
    private Chunk _tail;
    private int _headIndex;
    private int _tailIndex;

    public ChunkedQueue() => _tail = _head;

    public long Count { get; private set; }

    public void Enqueue(T item)
    {
        if (_tailIndex == ChunkSize)
        {
            var chunk = new Chunk();
            _tail.Next = chunk;
            _tail = chunk;
            _tailIndex = 0;
        }
        _tail.Items[_tailIndex++] = item;
        Count++;
    }

    public T Peek() => Count > 0 ? _head.Items[_headIndex] : throw new InvalidOperationException("the queue is empty");

    public T Dequeue()
    {
        T item = Peek();
        _head.Items[_headIndex] = default!;
        _headIndex++;
        Count--;
        if (_headIndex == ChunkSize && _head.Next is not null)
        {
            _head = _head.Next;
            _headIndex = 0;
        }
        else if (Count == 0)
        {
            _headIndex = 0;
            _tailIndex = 0;
        }
        return item;
    }

    /// <summary>Items oldest first.</summary>
    public IEnumerable<T> Items
    {
        get
        {
            Chunk? chunk = _head;
            int index = _headIndex;
            for (long remaining = Count; remaining > 0; remaining--)
            {
                if (index == ChunkSize)
                {
                    chunk = chunk!.Next;
                    index = 0;
                }
                yield return chunk!.Items[index++];
            }
        }
    }
}
