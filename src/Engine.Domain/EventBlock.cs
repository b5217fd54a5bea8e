using System.Buffers.Binary;

namespace Engine.Domain;

/// <summary>
/// The payload of one journal record and of one replicated block: <c>i32 event_count</c> (little-endian) then that
/// many <see cref="EventCodec"/> events, with dense sequences. Batching events into one record amortises the
/// journal's framing, checksum and enqueue over a ring batch. This is the one reader and writer of the format: the
/// engine's recovery and retention, the read model, Subscribe and the read replica all go through it.
/// Integrity (checksums) belongs to whatever carries the block (the journal record, the replication message).
/// </summary>
public static class EventBlock
{
    public const int HeaderBytes = 4;

    /// <summary>Decodes every event of a block, in order. Throws <see cref="FormatException"/> when the block is malformed.</summary>
    public static int Decode<TSink>(ReadOnlySpan<byte> payload, TSink sink) where TSink : IEventSink
    {
        var reader = new Reader(payload);
        while (reader.TryNext(out LedgerEvent ledgerEvent, out _)) sink.OnEvent(ledgerEvent);
        return reader.Count;
    }

    /// <summary>
    /// The first and last sequence of a block, from its count and its first event alone (sequences are dense).
    /// Throws <see cref="FormatException"/> when the block is empty or its first event does not decode.
    /// </summary>
    public static (long First, long Last, long FirstTimestampUnixMs) SequenceRange(ReadOnlySpan<byte> payload)
    {
        int count = ReadCount(payload);
        if (count < 1) throw new FormatException($"event block holds {count} events");
        EventCodec.Decode(payload[HeaderBytes..], out LedgerEvent first);
        return (first.Sequence, first.Sequence + count - 1, first.TimestampUnixMs);
    }

    /// <summary>
    /// Copies <paramref name="payload"/> into <paramref name="destination"/> without its events at or below
    /// <paramref name="sequence"/> (a block re-sent whole after a resume), so a copy of the log holds no duplicates.
    /// Returns the bytes written; <paramref name="destination"/> needs <c>payload.Length</c> bytes.
    /// </summary>
    public static int DropThrough(ReadOnlySpan<byte> payload, long sequence, Span<byte> destination)
    {
        if (destination.Length < payload.Length) throw new ArgumentException($"destination holds {destination.Length} bytes, the block {payload.Length}", nameof(destination));
        var reader = new Reader(payload);
        int written = HeaderBytes, kept = 0;
        while (reader.TryNext(out LedgerEvent e, out int offset))
        {
            if (e.Sequence <= sequence) continue;
            int length = reader.Offset - offset;
            payload.Slice(offset, length).CopyTo(destination[written..]);
            written += length;
            kept++;
        }
        WriteCount(destination, kept);
        return written;
    }

    /// <summary>Writes the header of a block holding <paramref name="count"/> events.</summary>
    public static void WriteCount(Span<byte> block, int count) => BinaryPrimitives.WriteInt32LittleEndian(block, count);

    private static int ReadCount(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < HeaderBytes) throw new FormatException("event block shorter than its header");
        return BinaryPrimitives.ReadInt32LittleEndian(payload);
    }

    /// <summary>
    /// Walks a block's events in order, with each event's byte offset in the payload (the read model's history index
    /// points there). After the last event it checks that nothing trails it. Throws <see cref="FormatException"/>
    /// when the block is malformed.
    /// </summary>
    public ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _payload;
        private int _read;

        public Reader(ReadOnlySpan<byte> payload)
        {
            _payload = payload;
            Count = ReadCount(payload);
            if (Count < 0) throw new FormatException($"event block holds {Count} events");
            Offset = HeaderBytes;
        }

        /// <summary>The number of events the header announces.</summary>
        public int Count { get; }

        /// <summary>The payload offset just after the last event read.</summary>
        public int Offset { get; private set; }

        public bool TryNext(out LedgerEvent e, out int offset)
        {
            offset = Offset;
            if (_read == Count)
            {
                if (Offset != _payload.Length) throw new FormatException($"event block has {_payload.Length - Offset} trailing bytes after {Count} events");
                e = default;
                return false;
            }
            Offset += EventCodec.Decode(_payload[Offset..], out e);
            _read++;
            return true;
        }
    }
}
