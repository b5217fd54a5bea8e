using System.Buffers.Binary;
using Engine.Domain;
using Engine.Journal;
using Engine.ReadModel;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Engine.ReadModel.Tests;

/// <summary>
/// No address limit inside the lifetime of a log (issue 9): FASTER addresses never restart, and FasterLog's tail (a
/// 32-bit page number and an in-page offset) passes 2^48 with large pages. Addresses past 2^43 (where the old packed
/// location threw) and past 2^48 are constructed here; nothing writes terabytes.
/// </summary>
public sealed class EventLocationTests
{
    private const long TwoPow43 = 1L << 43;
    private const long TwoPow48 = 1L << 48;

    private static readonly long[] FarAddresses =
    [
        EventJournal.FirstValidAddress, TwoPow43 - 8, TwoPow43, TwoPow43 + 64, TwoPow48 - 8, TwoPow48, TwoPow48 + 4096, 1L << 56, 1L << 62, long.MaxValue - 7,
    ];

    [Fact]
    public void Event_locations_round_trip_at_any_address_a_log_can_reach()
    {
        foreach (long address in FarAddresses)
        {
            foreach (int offset in new[] { 0, 4, 1234, EventLocation.PayloadOffsetMax })
            {
                var location = new EventLocation(address, offset);
                Assert.Equal((address, offset), (location.RecordAddress, location.PayloadOffset));
            }
        }
        Assert.Equal(12, EventLocations.BytesPerEvent);
    }

    [Fact]
    public void An_event_location_outside_the_journal_is_refused()
    {
        Assert.Throws<InvalidOperationException>(() => new EventLocation(-1, 0));
        Assert.Throws<InvalidOperationException>(() => new EventLocation(TwoPow48, EventLocation.PayloadOffsetMax + 1));
        Assert.Throws<InvalidOperationException>(() => new EventLocation(TwoPow48, -1));
    }

    [Fact]
    public void Event_locations_keep_log_order_and_drop_by_address_past_2_pow_43_and_2_pow_48()
    {
        var locations = new EventLocations();
        var added = new List<EventLocation>();
        foreach (long address in FarAddresses)
        {
            foreach (int offset in new[] { 4, 100, 5000 })
            {
                var location = new EventLocation(address, offset);
                locations.Add(location);
                added.Add(location);
            }
        }
        Assert.Equal(added, Enumerable.Range(0, locations.Count).Select(i => locations[i]));
        Assert.Equal(added.OrderBy(l => l).ToList(), added); // the comparison is log order: address, then offset

        int atTwoPow43 = added.FindIndex(l => l.RecordAddress >= TwoPow43);
        Assert.Equal(atTwoPow43, locations.FirstAtOrAfter(TwoPow43));
        Assert.Equal(atTwoPow43 + 1, locations.FirstAfter(added[atTwoPow43]));
        int atTwoPow48 = added.FindIndex(l => l.RecordAddress >= TwoPow48);
        Assert.Equal(atTwoPow48, locations.FirstAtOrAfter(TwoPow48));
        Assert.Equal(atTwoPow48, locations.FirstAfter(added[atTwoPow48 - 1]));
        Assert.Equal(locations.Count, locations.FirstAtOrAfter(long.MaxValue));

        Assert.Equal(atTwoPow43, locations.DropBefore(TwoPow43));
        Assert.Equal(atTwoPow48 - atTwoPow43, locations.DropBefore(TwoPow48));
        Assert.Equal(added.Skip(atTwoPow48), Enumerable.Range(0, locations.Count).Select(i => locations[i]));
        Assert.Equal(0, locations.FirstAtOrAfter(TwoPow48));
    }

    [Fact]
    public void The_history_index_snapshot_round_trips_addresses_past_2_pow_48()
    {
        var sequenceIndex = new SequenceIndex(stride: 1);
        var accounts = new Dictionary<string, AccountIndex>(StringComparer.Ordinal) { ["acct-1"] = new(), ["acct-2"] = new() };
        long sequence = 1;
        foreach (long address in FarAddresses)
        {
            sequenceIndex.Observe(sequence, address);
            accounts["acct-1"].Events.Add(new EventLocation(address, 4));
            accounts["acct-2"].Events.Add(new EventLocation(address, 4 + 90));
            sequence += 2;
        }
        using var stream = new MemoryStream();
        HistoryIndexSnapshot.Write(stream, sequenceIndex, accounts);

        stream.Position = 0;
        var readIndex = new SequenceIndex(stride: 1);
        var readAccounts = new Dictionary<string, AccountIndex>(StringComparer.Ordinal);
        (long historyEvents, uint format) = HistoryIndexSnapshot.Read(stream, readIndex, readAccounts, beginAddress: EventJournal.FirstValidAddress);
        Assert.Equal(HistoryIndexSnapshot.FormatMagic, format);
        Assert.Equal(2 * FarAddresses.Length, historyEvents);
        foreach ((string id, AccountIndex account) in accounts)
            Assert.Equal(Locations(account), Locations(readAccounts[id]));
        Assert.Equal(FarAddresses[^1], readIndex.AddressAtOrBefore(long.MaxValue));
        Assert.Equal(TwoPow48, readIndex.AddressAtOrBefore(1 + 2 * Array.IndexOf(FarAddresses, TwoPow48)));

        // Loading after the log was truncated to 2^48 keeps exactly the locations from there on.
        stream.Position = 0;
        readAccounts.Clear();
        (historyEvents, _) = HistoryIndexSnapshot.Read(stream, readIndex, readAccounts, beginAddress: TwoPow48);
        int kept = FarAddresses.Count(a => a >= TwoPow48);
        Assert.Equal(2 * kept, historyEvents);
        Assert.All(readAccounts.Values, account => Assert.Equal(FarAddresses.Where(a => a >= TwoPow48), Locations(account).Select(l => l.RecordAddress)));
    }

    [Fact]
    public void A_read_model_snapshot_with_the_old_packed_history_index_still_loads()
    {
        // RMX1, as the previous version wrote it: each location address << 20 | offset.
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.ASCII, leaveOpen: true))
        {
            writer.Write(HistoryIndexSnapshot.PackedFormatMagic);
            writer.Write(1);
            writer.Write(1L);
            writer.Write(64L);
            writer.Write(1);
            writer.Write("acct-1");
            writer.Write(2);
            writer.Write((64L << 20) | 4);
            writer.Write(((TwoPow43 - 8) << 20) | 300);
            writer.Write(HistoryIndexSnapshot.PackedFormatMagic);
        }
        stream.Position = 0;
        var accounts = new Dictionary<string, AccountIndex>(StringComparer.Ordinal);
        (long historyEvents, uint format) = HistoryIndexSnapshot.Read(stream, new SequenceIndex(1), accounts, beginAddress: 64);
        Assert.Equal(HistoryIndexSnapshot.PackedFormatMagic, format);
        Assert.Equal(2, historyEvents);
        Assert.Equal([new EventLocation(64, 4), new EventLocation(TwoPow43 - 8, 300)], Locations(accounts["acct-1"]));
    }

    [Fact]
    public void A_read_model_indexes_and_snapshots_records_at_addresses_past_2_pow_48()
    {
        // The feeder's path: ApplyRecord at far addresses (the old packing threw here), then a snapshot whose history
        // section reads back with those addresses.
        var ledger = new Ledger();
        var sink = new ListSink();
        ledger.Execute(Command.OpenAccount("open-1", "acct-1", "cust-1", "USD", 1_000), 1_700_000_000_000, sink);
        ledger.Execute(Command.Authorize("auth-1", "acct-1", 100, "USD"), 1_700_000_000_001, sink);
        ledger.Execute(Command.Authorize("auth-2", "acct-1", 100, "USD"), 1_700_000_000_002, sink);
        long[] addresses = [TwoPow43 + 64, TwoPow48 + 64, (1L << 62) + 64];
        string directory = Path.Combine(Path.GetTempPath(), "engine-readmodel-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            using var readModel = new LedgerReadModel(Options.Create(new ReadModelOptions()), TimeProvider.System, NullLogger<LedgerReadModel>.Instance);
            var offsets = new List<int>();
            for (int i = 0; i < sink.Events.Count; i++)
            {
                byte[] block = Block(sink.Events[i], out int offset);
                offsets.Add(offset);
                Assert.Equal(1, readModel.ApplyRecord(block, addresses[i], addresses[i] + block.Length + 64));
            }
            Assert.Equal(200, readModel.GetAccount("acct-1")!.HeldMinor);

            var store = new SnapshotStore(directory);
            readModel.WriteSnapshot(store);
            Assert.True(store.TryOpenNewestValid(out _, out Stream body));
            using (body)
            {
                Ledger.ReadSnapshot(body, LedgerReadModel.ReadModelLedgerOptions(new LedgerOptions()));
                var accounts = new Dictionary<string, AccountIndex>(StringComparer.Ordinal);
                HistoryIndexSnapshot.Read(body, new SequenceIndex(1), accounts, beginAddress: EventJournal.FirstValidAddress);
                Assert.Equal(addresses.Select((a, i) => new EventLocation(a, offsets[i])), Locations(accounts["acct-1"]));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static byte[] Block(in LedgerEvent e, out int offset)
    {
        var buffer = new byte[4 + EventCodec.EncodedSizeMax];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, 1);
        offset = 4;
        int length = EventCodec.Encode(e, buffer.AsSpan(offset));
        return buffer[..(offset + length)];
    }

    private static List<EventLocation> Locations(AccountIndex account) => [.. Enumerable.Range(0, account.Events.Count).Select(i => account.Events[i])];

    private sealed class ListSink : IEventSink
    {
        public List<LedgerEvent> Events { get; } = [];

        public void OnEvent(in LedgerEvent ledgerEvent) => Events.Add(ledgerEvent);
    }
}
