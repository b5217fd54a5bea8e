namespace Engine.Journal.Tests;

public sealed class JournalLayoutTests
{
    [Fact]
    public void Crc32C_matches_the_standard_check_value_in_one_piece_and_in_chunks()
    {
        byte[] data = "123456789"u8.ToArray();
        Assert.Equal(0xE3069283u, Crc32C.Compute(data));

        var random = new Random(5);
        byte[] large = new byte[100_003];
        random.NextBytes(large);
        uint state = Crc32C.InitialState;
        for (int offset = 0; offset < large.Length;)
        {
            int chunk = Math.Min(random.Next(1, 5000), large.Length - offset);
            state = Crc32C.Update(state, large.AsSpan(offset, chunk));
            offset += chunk;
        }
        Assert.Equal(Crc32C.Compute(large), Crc32C.Finish(state));
    }

    [Fact]
    public void Page_remainders_too_small_for_a_record_header_are_filled_and_read_cleanly()
    {
        using var dir = new TempDirectory();
        var options = new JournalOptions { DirectoryPath = dir.Path, PageSizeBits = 12, MemorySizeBits = 15, SegmentSizeBits = 16, RecordBytesMax = 4076 };
        byte[][] payloads = [Journals.Payload(0, 4004), Journals.Payload(1, 100), Journals.Payload(2, 4060), Journals.Payload(3, 100), Journals.Payload(4, 4076), Journals.Payload(5, 0)];
        var addresses = new List<long>();
        using (var journal = EventJournal.Open(options))
        {
            foreach (byte[] payload in payloads) addresses.Add(journal.Append(payload));
            journal.Commit();
        }
        // 64 + 4024 leaves 8 bytes on page 0; 4080 leaves 16 on page 1; a 4076-byte payload fills page 3 exactly.
        Assert.Equal([64, 4096, 8192, 12288, 16384, 20480], addresses);
        using (var journal = EventJournal.Open(options))
        {
            var (read, readAddresses, end) = Journals.ReadAll(journal);
            Assert.Equal(payloads, read);
            Assert.Equal(addresses, readAddresses);
            Assert.Equal(JournalReadEnd.Clean(20480 + 24), end);
        }
    }

    [Fact]
    public void A_reader_can_start_at_any_record_boundary_such_as_a_snapshot_address()
    {
        using var dir = new TempDirectory();
        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        var addresses = new List<long>();
        for (int i = 0; i < 500; i++) addresses.Add(journal.Append(Journals.Payload(i, 10 + i % 700)));
        journal.Commit();
        long snapshotAddress = journal.TailAddress;
        for (int i = 500; i < 600; i++) journal.Append(Journals.Payload(i, 10 + i % 700));
        journal.Commit();

        var fromMiddle = Journals.ReadAll(journal, addresses[321]);
        Assert.Equal(600 - 321, fromMiddle.Payloads.Count);
        Assert.Equal(Journals.Payload(321, 10 + 321 % 700), fromMiddle.Payloads[0]);

        var fromSnapshot = Journals.ReadAll(journal, snapshotAddress);
        Assert.Equal(100, fromSnapshot.Payloads.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => journal.OpenReader(journal.TailAddress + 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => journal.OpenReader(addresses[3] + 4));
    }

    [Fact]
    public void CutTail_is_refused_while_appended_records_are_uncommitted_or_when_the_range_holds_valid_records()
    {
        using var dir = new TempDirectory();
        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        long first = journal.Append(Journals.Payload(0, 50));
        journal.Append(Journals.Payload(1, 50));
        Assert.Throws<InvalidOperationException>(() => journal.CutTail(first));
        journal.Commit();
        Assert.Throws<InvalidOperationException>(() => journal.CutTail(first));
        Assert.Equal(2, Journals.ReadAll(journal).Payloads.Count);
    }
}
