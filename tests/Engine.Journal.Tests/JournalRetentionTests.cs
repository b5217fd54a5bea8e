using Engine.Testing;
using System.Globalization;

namespace Engine.Journal.Tests;

/// <summary>Retention: <see cref="EventJournal.TruncateBefore"/> and what readers and restarts see afterwards.</summary>
public sealed class JournalRetentionTests
{
    private const int SegmentBits = 16; // Journals.Small: 64 KiB segment files

    /// <summary>Appends <paramref name="count"/> records of 150–749 bytes and commits; ~30 segment files for 4000.</summary>
    private static (List<byte[]> Payloads, List<long> Addresses) Fill(EventJournal journal, int count, int firstIndex = 0)
    {
        var payloads = new List<byte[]>();
        var addresses = new List<long>();
        for (int i = firstIndex; i < firstIndex + count; i++)
        {
            byte[] payload = Journals.Payload(i, 150 + i % 600);
            payloads.Add(payload);
            addresses.Add(journal.Append(payload));
        }
        journal.Commit();
        return (payloads, addresses);
    }

    [Fact]
    public void Truncation_persists_the_begin_address_and_the_records_after_it_read_back_identical_after_reopen()
    {
        using var dir = new TempDirectory();
        List<byte[]> payloads;
        List<long> addresses;
        long committed;
        const int keepFrom = 2500;
        using (var journal = EventJournal.Open(Journals.Small(dir.Path)))
        {
            (payloads, addresses) = Fill(journal, 4000);
            committed = journal.CommittedUntilAddress;
            journal.TruncateBefore(addresses[keepFrom]);
            Assert.Equal(addresses[keepFrom], journal.BeginAddress);

            var (read, readAddresses, end) = Journals.ReadAll(journal);
            Assert.Equal(payloads[keepFrom..], read);
            Assert.Equal(addresses[keepFrom..], readAddresses);
            Assert.Equal(JournalReadEnd.Clean(committed), end);
        }

        using (var reopened = EventJournal.Open(Journals.Small(dir.Path)))
        {
            Assert.Equal(addresses[keepFrom], reopened.BeginAddress);
            Assert.Equal(committed, reopened.CommittedUntilAddress);
            var (read, readAddresses, end) = Journals.ReadAll(reopened);
            Assert.Equal(payloads[keepFrom..], read);
            Assert.Equal(addresses[keepFrom..], readAddresses);
            Assert.Equal(JournalReadEnd.Clean(committed), end);
        }
    }

    [Fact]
    public void Segment_files_entirely_below_the_begin_are_deleted_and_the_one_holding_it_is_kept()
    {
        using var dir = new TempDirectory();
        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        (_, List<long> addresses) = Fill(journal, 4000);
        long begin = addresses[2500];
        long beginSegment = begin >> SegmentBits;
        long lastSegment = (journal.CommittedUntilAddress - 1) >> SegmentBits;
        Assert.True(beginSegment >= 10, "the test should cut off many segments");

        Assert.True(journal.TruncateBefore(begin));

        for (long segment = 0; segment < beginSegment; segment++)
            Assert.False(File.Exists(Journals.SegmentPath(dir.Path, segment)), $"segment {segment} lies entirely below the begin {begin}");
        for (long segment = beginSegment; segment <= lastSegment; segment++)
            Assert.True(File.Exists(Journals.SegmentPath(dir.Path, segment)), $"segment {segment} holds records at or after the begin {begin}");
    }

    [Fact]
    public void A_reader_opened_below_the_begin_gets_JournalTruncatedException_carrying_the_begin()
    {
        using var dir = new TempDirectory();
        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        (_, List<long> addresses) = Fill(journal, 1000);
        journal.TruncateBefore(addresses[600]);

        var error = Assert.Throws<JournalTruncatedException>(() => journal.OpenReader(addresses[10]));
        Assert.Equal(addresses[600], error.BeginAddress);
        Assert.Equal(addresses[10], error.RequestedAddress);
        Assert.Throws<JournalTruncatedException>(() => journal.OpenReader(EventJournal.FirstValidAddress));
        using JournalReader atBegin = journal.OpenReader(addresses[600]);
        Assert.True(atBegin.TryReadNext(out ReadOnlySpan<byte> payload, out long address, out _));
        Assert.Equal(addresses[600], address);
        Assert.Equal(Journals.Payload(600, 150 + 600 % 600), payload.ToArray());
    }

    [Fact]
    public void An_open_reader_overtaken_by_the_begin_stops_with_JournalTruncatedException_not_corruption()
    {
        using var dir = new TempDirectory();
        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        (List<byte[]> payloads, List<long> addresses) = Fill(journal, 2000);
        using JournalReader reader = journal.OpenReader(journal.BeginAddress);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(reader.TryReadNext(out ReadOnlySpan<byte> payload, out _, out _));
            Assert.Equal(payloads[i], payload.ToArray());
        }

        journal.TruncateBefore(addresses[1500]); // deletes segment 0, which the reader has open, and the ones after it

        var error = Assert.Throws<JournalTruncatedException>(() => reader.TryReadNext(out _, out _, out _));
        Assert.Equal(addresses[5], error.RequestedAddress);
        Assert.Equal(addresses[1500], error.BeginAddress);
    }

    [Fact]
    public void Truncation_is_refused_off_a_record_boundary_or_beyond_the_committed_end_and_never_moves_the_begin_back()
    {
        using var dir = new TempDirectory();
        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        (_, List<long> addresses) = Fill(journal, 500);
        journal.Append(Journals.Payload(9999, 100)); // appended, not committed

        Assert.Throws<ArgumentOutOfRangeException>(() => journal.TruncateBefore(journal.TailAddress));
        Assert.Throws<ArgumentOutOfRangeException>(() => journal.TruncateBefore(addresses[100] + 4));
        Assert.Throws<ArgumentException>(() => journal.TruncateBefore(addresses[100] + 16)); // aligned, inside a record
        Assert.Equal(EventJournal.FirstValidAddress, journal.BeginAddress);

        journal.TruncateBefore(addresses[300]);
        Assert.False(journal.TruncateBefore(addresses[100]));
        Assert.Equal(addresses[300], journal.BeginAddress);
    }

    [Fact]
    public void Appends_continue_after_truncating_to_the_committed_end_and_survive_reopen()
    {
        using var dir = new TempDirectory();
        long begin;
        List<byte[]> later;
        using (var journal = EventJournal.Open(Journals.Small(dir.Path)))
        {
            Fill(journal, 1000);
            begin = journal.CommittedUntilAddress;
            journal.TruncateBefore(begin);
            Assert.Empty(Journals.ReadAll(journal).Payloads);

            (later, List<long> addresses) = Fill(journal, 700, firstIndex: 1000);
            Assert.Equal(begin, addresses[0]);
            Assert.Equal(later, Journals.ReadAll(journal).Payloads);
        }
        using (var reopened = EventJournal.Open(Journals.Small(dir.Path)))
        {
            Assert.Equal(begin, reopened.BeginAddress);
            Assert.Equal(later, Journals.ReadAll(reopened).Payloads);
            // Truncated to the end again and closed at once: the next process starts with an empty readable log.
            begin = reopened.CommittedUntilAddress;
            reopened.TruncateBefore(begin);
        }
        using (var again = EventJournal.Open(Journals.Small(dir.Path)))
        {
            Assert.Equal(begin, again.BeginAddress);
            Assert.Empty(Journals.ReadAll(again).Payloads);
            (later, _) = Fill(again, 300, firstIndex: 5000);
        }
        using (var last = EventJournal.Open(Journals.Small(dir.Path)))
        {
            Assert.Equal(begin, last.BeginAddress);
            Assert.Equal(later, Journals.ReadAll(last).Payloads);
        }
    }

    [Fact]
    public void Segment_files_left_below_a_durable_begin_by_a_crash_are_deleted_on_open()
    {
        // The state a crash leaves between "begin durable" and "files deleted": the new commit file next to the old
        // segment files. Built in a fresh directory, because FASTER's own asynchronous delete may still be pending
        // against the directory the truncation ran in.
        using var dir = new TempDirectory();
        using var crashed = new TempDirectory();
        long begin;
        using (var journal = EventJournal.Open(Journals.Small(dir.Path)))
        {
            (_, List<long> addresses) = Fill(journal, 2000);
            foreach (string segment in Directory.GetFiles(dir.Path, EventJournal.SegmentFilePrefix + ".*"))
                File.Copy(segment, Path.Combine(crashed.Path, Path.GetFileName(segment)));
            begin = addresses[1500];
            journal.TruncateBefore(begin);
        }
        File.Copy(Path.Combine(dir.Path, "journal.commit"), Path.Combine(crashed.Path, "journal.commit"));
        Assert.True(File.Exists(Journals.SegmentPath(crashed.Path, 0)));

        var log = new ListLogger();
        using var reopened = EventJournal.Open(Journals.Small(crashed.Path), log);
        Assert.Equal(begin, reopened.BeginAddress);
        for (long segment = 0; segment < begin >> SegmentBits; segment++)
            Assert.False(File.Exists(Journals.SegmentPath(crashed.Path, segment)), $"segment {segment} lies below the durable begin");
        Assert.Contains(log.Messages, line => line.Contains("journal.log.0", StringComparison.Ordinal) && line.Contains("left over", StringComparison.Ordinal));
        Assert.Equal(2000 - 1500, Journals.ReadAll(reopened).Payloads.Count);
    }

    [Fact]
    public void A_missing_segment_file_at_the_begin_address_stops_start_up()
    {
        using var dir = new TempDirectory();
        long begin;
        using (var journal = EventJournal.Open(Journals.Small(dir.Path)))
        {
            (_, List<long> addresses) = Fill(journal, 2000);
            begin = addresses[1000];
            journal.TruncateBefore(begin);
        }
        File.Delete(Journals.SegmentPath(dir.Path, begin >> SegmentBits));
        var error = Assert.Throws<JournalRecoveryException>(() => EventJournal.Open(Journals.Small(dir.Path)));
        Assert.Contains(begin.ToString(CultureInfo.InvariantCulture), error.Message);
    }

    [Fact]
    public void The_truncated_begin_survives_kill_9_right_after_TruncateBefore_returns()
    {
        using var dir = new TempDirectory();
        const int records = 3000, payloadBytes = 200, keepFrom = 2000;
        long begin;
        using (var child = new ChildProcess("truncate-then-hang", dir.Path, $"{records}", $"{payloadBytes}", $"{keepFrom}"))
        {
            string line = child.WaitForLine("TRUNCATED ", TimeSpan.FromSeconds(30));
            begin = long.Parse(line["TRUNCATED ".Length..], CultureInfo.InvariantCulture);
            child.KillHard();
        }

        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        Assert.Equal(begin, journal.BeginAddress);
        Assert.False(File.Exists(Journals.SegmentPath(dir.Path, 0)));
        var (payloads, addresses, end) = Journals.ReadAll(journal);
        Assert.Equal(Enumerable.Range(keepFrom, records - keepFrom).Select(i => Journals.Payload(i, payloadBytes)), payloads);
        Assert.Equal(begin, addresses[0]);
        Assert.True(end.IsClean, end.ToString());
    }
}
