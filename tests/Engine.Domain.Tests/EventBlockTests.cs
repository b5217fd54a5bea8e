namespace Engine.Domain.Tests;

/// <summary>The one event-block format (count, then events): decode, sequence range and drop-through.</summary>
public sealed class EventBlockTests
{
    private static byte[] Block(long firstSequence, int count)
    {
        var buffer = new byte[EventBlock.HeaderBytes + count * EventCodec.EncodedSizeMax];
        int at = EventBlock.HeaderBytes;
        for (int i = 0; i < count; i++)
        {
            var e = new LedgerEvent
            {
                Sequence = firstSequence + i,
                TimestampUnixMs = 1_000 + i,
                Type = EventType.Authorized,
                Command = CommandType.Authorize,
                RequestId = $"r{i}",
                AccountId = "acc",
                AmountMinor = 10 + i,
            };
            at += EventCodec.Encode(e, buffer.AsSpan(at));
        }
        EventBlock.WriteCount(buffer, count);
        return buffer[..at];
    }

    private sealed class Collect : IEventSink
    {
        public List<LedgerEvent> Events { get; } = [];
        public void OnEvent(in LedgerEvent ledgerEvent) => Events.Add(ledgerEvent);
    }

    [Fact]
    public void Decode_returns_every_event_in_order()
    {
        var sink = new Collect();
        Assert.Equal(3, EventBlock.Decode(Block(7, 3), sink));
        Assert.Equal([7L, 8L, 9L], sink.Events.Select(e => e.Sequence));
    }

    [Fact]
    public void Sequence_range_comes_from_the_count_and_the_first_event()
    {
        (long first, long last, long firstTimestamp) = EventBlock.SequenceRange(Block(41, 5));
        Assert.Equal((41L, 45L, 1_000L), (first, last, firstTimestamp));
    }

    [Fact]
    public void Sequence_range_of_an_empty_block_is_refused()
    {
        var empty = new byte[EventBlock.HeaderBytes];
        Assert.Throws<FormatException>(() => EventBlock.SequenceRange(empty));
    }

    [Fact]
    public void Trailing_bytes_after_the_announced_events_are_refused()
    {
        byte[] block = [.. Block(1, 2), 0];
        Assert.Throws<FormatException>(() => EventBlock.Decode(block, new Collect()));
    }

    [Fact]
    public void A_block_shorter_than_its_header_is_refused()
    {
        Assert.Throws<FormatException>(() => EventBlock.Decode(new byte[2], new Collect()));
    }

    [Fact]
    public void Drop_through_keeps_only_the_events_after_the_sequence()
    {
        byte[] block = Block(10, 4);
        var destination = new byte[block.Length];
        int written = EventBlock.DropThrough(block, 11, destination);
        var sink = new Collect();
        EventBlock.Decode(destination.AsSpan(0, written), sink);
        Assert.Equal([12L, 13L], sink.Events.Select(e => e.Sequence));
    }

    [Fact]
    public void Reader_reports_each_events_offset_in_the_payload()
    {
        byte[] block = Block(1, 2);
        var reader = new EventBlock.Reader(block);
        Assert.True(reader.TryNext(out _, out int firstOffset));
        Assert.Equal(EventBlock.HeaderBytes, firstOffset);
        int firstEnd = reader.Offset;
        Assert.True(reader.TryNext(out LedgerEvent second, out int secondOffset));
        Assert.Equal(firstEnd, secondOffset);
        EventCodec.Decode(block.AsSpan(secondOffset), out LedgerEvent again);
        Assert.Equal(second.Sequence, again.Sequence);
        Assert.False(reader.TryNext(out _, out _));
    }
}
