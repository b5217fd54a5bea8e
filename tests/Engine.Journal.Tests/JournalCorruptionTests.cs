using Engine.Testing;
namespace Engine.Journal.Tests;

public sealed class JournalCorruptionTests
{
    private const int PageBytes = 1 << 12; // Journals.Small

    /// <summary>Writes <paramref name="count"/> records of <paramref name="payloadBytes"/> in two commits; returns their addresses and the committed end.</summary>
    private static (List<long> Addresses, long CommittedUntil) WriteRecords(string directory, int count, int payloadBytes)
    {
        var addresses = new List<long>();
        using var journal = EventJournal.Open(Journals.Small(directory));
        for (int i = 0; i < count; i++)
        {
            addresses.Add(journal.Append(Journals.Payload(i, payloadBytes)));
            if (i == count / 2) journal.Commit();
        }
        return (addresses, journal.Commit());
    }

    private static void Overwrite(string directory, long address, ReadOnlySpan<byte> bytes)
    {
        using var file = new FileStream(Journals.SegmentPath(directory, address >> 16), FileMode.Open, FileAccess.Write);
        file.Position = address & 0xFFFF;
        file.Write(bytes);
    }

    private static void AssertTornTailThenCutAppendAndReopenReadClean(string directory, int intactRecords, long tornAt, int payloadBytes)
    {
        using (var journal = EventJournal.Open(Journals.Small(directory)))
        {
            var (payloads, _, end) = Journals.ReadAll(journal);
            Assert.Equal(JournalReadEnd.TornTail(tornAt), end);
            Assert.Equal(intactRecords, payloads.Count);
            for (int i = 0; i < intactRecords; i++) Assert.Equal(Journals.Payload(i, payloadBytes), payloads[i]);

            Assert.Equal(0, journal.LogEpoch);
            journal.CutTail(tornAt);
            Assert.Equal(1, journal.LogEpoch);
            Assert.Equal(tornAt, journal.CommittedUntilAddress);
            Assert.Equal(tornAt, journal.TailAddress);
            Assert.Equal(JournalReadEnd.Clean(tornAt), Journals.ReadAll(journal).End);

            Assert.Equal(tornAt, journal.Append(Journals.Payload(1000, payloadBytes)));
            for (int i = 1001; i < 1100; i++) journal.Append(Journals.Payload(i, payloadBytes));
            journal.Commit();
            var after = Journals.ReadAll(journal);
            Assert.True(after.End.IsClean, after.End.ToString());
            Assert.Equal(intactRecords + 100, after.Payloads.Count);
        }
        using (var reopened = EventJournal.Open(Journals.Small(directory)))
        {
            Assert.Equal(1, reopened.LogEpoch); // the cut's epoch is durable, and later commits carry it forward
            var (payloads, _, end) = Journals.ReadAll(reopened);
            Assert.True(end.IsClean, end.ToString());
            Assert.Equal(intactRecords + 100, payloads.Count);
            Assert.Equal(Journals.Payload(1000, payloadBytes), payloads[intactRecords]);
            Assert.Equal(Journals.Payload(1099, payloadBytes), payloads[^1]);
        }
    }

    [Fact]
    public void Truncated_segment_file_at_the_tail_is_a_torn_tail_that_CutTail_removes_for_good()
    {
        using var dir = new TempDirectory();
        var (addresses, _) = WriteRecords(dir.Path, 200, 100);
        long tornAt = addresses[180];
        using (var file = new FileStream(Journals.SegmentPath(dir.Path, 0), FileMode.Open, FileAccess.Write))
            file.SetLength(tornAt + 10); // the committed tail lost its last bytes: a torn write

        AssertTornTailThenCutAppendAndReopenReadClean(dir.Path, 180, tornAt, 100);
    }

    [Fact]
    public void Garbage_over_the_last_committed_records_is_a_torn_tail()
    {
        using var dir = new TempDirectory();
        var (addresses, committedUntil) = WriteRecords(dir.Path, 120, 150);
        long tornAt = addresses[117];
        var garbage = new byte[committedUntil - tornAt];
        new Random(3).NextBytes(garbage);
        Overwrite(dir.Path, tornAt, garbage);

        AssertTornTailThenCutAppendAndReopenReadClean(dir.Path, 117, tornAt, 150);
    }

    [Fact]
    public void Zeroed_last_committed_records_are_a_torn_tail()
    {
        using var dir = new TempDirectory();
        var (addresses, committedUntil) = WriteRecords(dir.Path, 120, 150);
        long tornAt = addresses[110];
        Overwrite(dir.Path, tornAt, new byte[committedUntil - tornAt]);

        AssertTornTailThenCutAppendAndReopenReadClean(dir.Path, 110, tornAt, 150);
    }

    [Fact]
    public void A_missing_last_segment_file_is_a_torn_tail()
    {
        using var dir = new TempDirectory();
        var (addresses, committedUntil) = WriteRecords(dir.Path, 1200, 150); // ~211 KB: segments 0 to 3 of 64 KiB
        long lastSegment = (committedUntil - 1) >> 16;
        Assert.True(lastSegment >= 2);
        File.Delete(Journals.SegmentPath(dir.Path, lastSegment));
        long lastSegmentStart = lastSegment << 16;
        int intact = addresses.FindIndex(a => a >= lastSegmentStart);
        Assert.Equal(lastSegmentStart, addresses[intact]); // a page (and segment) always starts with a record

        AssertTornTailThenCutAppendAndReopenReadClean(dir.Path, intact, lastSegmentStart, 150);
    }

    [Fact]
    public void A_missing_segment_file_in_the_middle_is_corruption()
    {
        using var dir = new TempDirectory();
        WriteRecords(dir.Path, 1200, 150);
        File.Delete(Journals.SegmentPath(dir.Path, 1));
        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        var error = Assert.Throws<JournalCorruptException>(() => Journals.ReadAll(journal));
        Assert.Equal(65536, error.Address);
    }

    [Theory]
    [InlineData(0)]   // FASTER's length prefix
    [InlineData(4)]   // our magic
    [InlineData(16)]  // our checksum
    [InlineData(40)]  // payload
    public void Flipped_byte_in_the_middle_of_the_log_throws_JournalCorruptException_naming_the_address(int byteInRecord)
    {
        using var dir = new TempDirectory();
        var (addresses, _) = WriteRecords(dir.Path, 200, 100);
        long damaged = addresses[50];
        byte[] original = new byte[1];
        using (var file = new FileStream(Journals.SegmentPath(dir.Path, 0), FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = damaged + byteInRecord;
            file.ReadExactly(original);
            file.Position = damaged + byteInRecord;
            file.WriteByte((byte)(original[0] ^ 0x40));
        }

        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        using JournalReader reader = journal.OpenReader(journal.BeginAddress);
        int read = 0;
        var error = Assert.Throws<JournalCorruptException>(() =>
        {
            while (reader.TryReadNext(out _, out _, out _)) read++;
        });
        Assert.Equal(50, read);
        Assert.Equal(damaged, error.Address);
        Assert.Contains($"address {damaged}", error.Message, StringComparison.Ordinal);
        Assert.Contains("wrong balances", error.Message, StringComparison.Ordinal);

        // CutTail refuses to throw away valid records behind the damage.
        Assert.Throws<InvalidOperationException>(() => journal.CutTail(damaged)); // reader still open
        reader.Dispose();
        Assert.Throws<InvalidOperationException>(() => journal.CutTail(damaged));
    }

    [Fact]
    public void Records_zeroed_to_the_end_of_a_page_look_like_padding_but_are_caught_as_corruption()
    {
        using var dir = new TempDirectory();
        var (addresses, _) = WriteRecords(dir.Path, 300, 100); // 120-byte entries: 34 per page, then a filler
        // The last three records of page 2 and its filler, zeroed: what FASTER's own padding would look like, had
        // the journal let FASTER pad. Zeros are never valid inside the committed log.
        long pageEnd = 3L * PageBytes;
        int lastOnPage = addresses.FindLastIndex(a => a < pageEnd);
        long zeroFrom = addresses[lastOnPage - 2];
        Overwrite(dir.Path, zeroFrom, new byte[pageEnd - zeroFrom]);

        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        var error = Assert.Throws<JournalCorruptException>(() => Journals.ReadAll(journal));
        Assert.Equal(zeroFrom, error.Address);
    }

    [Fact]
    public void Garbage_length_prefixes_never_make_the_reader_loop_or_return_garbage()
    {
        var random = new Random(11);
        for (int round = 0; round < 12; round++)
        {
            using var dir = new TempDirectory();
            var (addresses, committedUntil) = WriteRecords(dir.Path, 150, random.Next(0, 700));
            int first = random.Next(1, addresses.Count);
            long from = addresses[first];
            var garbage = new byte[random.Next(4, (int)Math.Min(3000, committedUntil - from))];
            random.NextBytes(garbage);
            Overwrite(dir.Path, from, garbage);

            using var journal = EventJournal.Open(Journals.Small(dir.Path));
            try
            {
                var (payloads, _, end) = Journals.ReadAll(journal);
                // Only possible when the garbage reached the committed end: then it is a torn tail.
                Assert.True(end.IsTornTail, end.ToString());
                Assert.Equal(from, end.Address);
                Assert.Equal(first, payloads.Count);
            }
            catch (JournalCorruptException e)
            {
                Assert.Equal(from, e.Address);
            }
        }
    }

    [Fact]
    public void Torn_newest_commit_slot_falls_back_to_the_previous_commit()
    {
        using var dir = new TempDirectory();
        long firstCommit;
        using (var journal = EventJournal.Open(Journals.Small(dir.Path)))
        {
            for (int i = 0; i < 10; i++) journal.Append(Journals.Payload(i, 64));
            firstCommit = journal.Commit();
            for (int i = 10; i < 20; i++) journal.Append(Journals.Payload(i, 64));
            journal.Commit();
        }
        DamageCommitSlot(dir.Path, newest: true);

        var log = new ListLogger();
        using (var journal = EventJournal.Open(Journals.Small(dir.Path), log))
        {
            Assert.Contains(log.Entries, l => l.Level == LogLevel.Warning && l.Message.Contains("damaged", StringComparison.Ordinal));
            Assert.Equal(firstCommit, journal.CommittedUntilAddress);
            Assert.Equal(10, Journals.ReadAll(journal).Payloads.Count);
        }
    }

    [Fact]
    public void Damaged_commit_metadata_stops_start_up_with_a_clear_message()
    {
        using var dir = new TempDirectory();
        using (var journal = EventJournal.Open(Journals.Small(dir.Path)))
        {
            journal.Append(Journals.Payload(1, 64));
            journal.Commit();
        }
        DamageCommitSlot(dir.Path, newest: true);
        DamageCommitSlot(dir.Path, newest: false);
        var error = Assert.Throws<JournalRecoveryException>(() => EventJournal.Open(Journals.Small(dir.Path)));
        Assert.Contains("start-up is stopped", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_commit_metadata_next_to_segment_files_stops_start_up()
    {
        using var dir = new TempDirectory();
        using (var journal = EventJournal.Open(Journals.Small(dir.Path)))
        {
            journal.Append(Journals.Payload(1, 64));
            journal.Commit();
        }
        File.Delete(Path.Combine(dir.Path, "journal.commit"));
        var error = Assert.Throws<JournalRecoveryException>(() => EventJournal.Open(Journals.Small(dir.Path)));
        Assert.Contains("journal.log.0", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Flips a byte inside the commit slot holding the newest (or the older) commit number.</summary>
    private static void DamageCommitSlot(string directory, bool newest)
    {
        string path = Path.Combine(directory, "journal.commit");
        byte[] bytes = File.ReadAllBytes(path);
        long commit0 = BitConverter.ToInt64(bytes, 8);
        long commit1 = BitConverter.ToInt64(bytes, 4096 + 8);
        int slot = (commit1 > commit0) == newest ? 1 : 0;
        bytes[slot * 4096 + 30] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
    }
}
