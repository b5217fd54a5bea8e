using System.Buffers.Binary;
using Engine.Domain;

namespace Engine.Core;

/// <summary>
/// The payload of one journal record: <c>u32 event_count</c> then that many <see cref="EventCodec"/> events.
/// Batching events into one record amortises the journal's framing, checksum and enqueue over a ring batch.
/// </summary>
public static class EventBlock
{
    public const int HeaderBytes = 4;

    /// <summary>Decodes every event of a block, in order. Throws <see cref="FormatException"/> when the block is malformed.</summary>
    public static int Decode<TSink>(ReadOnlySpan<byte> payload, TSink sink) where TSink : IEventSink
    {
        if (payload.Length < HeaderBytes) throw new FormatException("event block shorter than its header");
        int count = BinaryPrimitives.ReadInt32LittleEndian(payload);
        int at = HeaderBytes;
        for (int i = 0; i < count; i++)
        {
            at += EventCodec.Decode(payload[at..], out LedgerEvent ledgerEvent);
            sink.OnEvent(ledgerEvent);
        }
        if (at != payload.Length) throw new FormatException($"event block has {payload.Length - at} trailing bytes after {count} events");
        return count;
    }
}
