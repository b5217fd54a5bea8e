using Engine.Testing;
using System.Globalization;

namespace Engine.Journal.Tests;

public sealed class JournalDurabilityTests
{
    [Fact]
    public void Appended_and_committed_records_read_back_in_order_across_reopen()
    {
        using var dir = new TempDirectory();
        var random = new Random(7);
        var written = new List<byte[]>();
        var addresses = new List<long>();
        using (var journal = EventJournal.Open(Journals.Small(dir.Path)))
        {
            Assert.Equal(EventJournal.FirstValidAddress, journal.BeginAddress);
            for (int i = 0; i < 3000; i++)
            {
                byte[] payload = Journals.Payload(i, random.Next(0, 1500));
                written.Add(payload);
                addresses.Add(journal.Append(payload));
                if (random.Next(50) == 0) journal.Commit();
            }
            long committed = journal.Commit();
            Assert.Equal(journal.TailAddress, committed);
            Assert.Equal(committed, journal.CommittedUntilAddress);

            var (payloads, readAddresses, end) = Journals.ReadAll(journal);
            Assert.Equal(written, payloads);
            Assert.Equal(addresses, readAddresses);
            Assert.Equal(JournalReadEnd.Clean(committed), end);
        }

        Assert.True(File.Exists(Journals.SegmentPath(dir.Path, 20)), "the test should span many 64 KiB segments");
        using (var reopened = EventJournal.Open(Journals.Small(dir.Path)))
        {
            var (payloads, readAddresses, end) = Journals.ReadAll(reopened);
            Assert.Equal(written, payloads);
            Assert.Equal(addresses, readAddresses);
            Assert.True(end.IsClean);

            // Appends continue at the recovered tail, and everything still reads back after another reopen.
            long next = reopened.Append(Journals.Payload(99_999, 10));
            Assert.Equal(end.Address, next);
            reopened.Commit();
        }
        using (var again = EventJournal.Open(Journals.Small(dir.Path)))
        {
            Assert.Equal(written.Count + 1, Journals.ReadAll(again).Payloads.Count);
        }
    }

    [Fact]
    public void Commit_makes_records_visible_to_readers_and_is_a_no_op_when_nothing_is_new()
    {
        using var dir = new TempDirectory();
        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        using JournalReader reader = journal.OpenReader(journal.BeginAddress);

        journal.Append(Journals.Payload(1, 100));
        Assert.False(reader.TryReadNext(out _, out _, out _));
        Assert.Equal(JournalReadEnd.Clean(journal.BeginAddress), reader.EndState);

        long committed = journal.Commit();
        Assert.True(reader.TryReadNext(out ReadOnlySpan<byte> payload, out long address, out long next));
        Assert.Equal(Journals.Payload(1, 100), payload.ToArray());
        Assert.Equal(journal.BeginAddress, address);
        Assert.Equal(committed, next);
        Assert.False(reader.TryReadNext(out _, out _, out _));

        Assert.Equal(committed, journal.Commit()); // nothing new: same address, no flush
    }

    [Fact]
    public async Task A_tailing_reader_wakes_on_WaitForCommitAsync_while_another_thread_appends_and_commits()
    {
        using var dir = new TempDirectory();
        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        const int count = 5000;

        var appender = Task.Run(() =>
        {
            for (int i = 0; i < count; i++)
            {
                journal.Append(Journals.Payload(i, 8 + i % 300));
                if (i % 64 == 63) journal.Commit();
            }
            journal.Commit();
        });
        // A second committer racing the appender: group commit must still cover exactly what was appended before it.
        using var stop = new CancellationTokenSource();
        var committer = Task.Run(async () =>
        {
            while (!stop.IsCancelled()) { await journal.CommitAsync(); await Task.Yield(); }
        });

        using JournalReader reader = journal.OpenReader(journal.BeginAddress);
        int seen = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (seen < count)
        {
            if (reader.TryReadNext(out ReadOnlySpan<byte> payload, out _, out _))
            {
                Assert.Equal(Journals.Payload(seen, 8 + seen % 300), payload.ToArray());
                seen++;
                continue;
            }
            Assert.True(reader.EndState.IsClean, reader.EndState.ToString());
            await journal.WaitForCommitAsync(reader.EndState.Address + 1, timeout.Token);
        }
        await appender;
        stop.Cancel();
        await committer;
        Assert.False(reader.TryReadNext(out _, out _, out _));
    }

    [Fact]
    public async Task WaitForCommitAsync_honours_cancellation_and_a_disposed_journal_refuses_work()
    {
        using var dir = new TempDirectory();
        var journal = EventJournal.Open(Journals.Small(dir.Path));
        journal.Append(Journals.Payload(1, 10));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await journal.WaitForCommitAsync(journal.TailAddress, cancel.Token));
        journal.Dispose();
        Assert.Throws<ObjectDisposedException>(() => journal.Append(Journals.Payload(2, 10)));
        Assert.Throws<ObjectDisposedException>(() => journal.Commit());
        Assert.Throws<ObjectDisposedException>(() => journal.OpenReader(EventJournal.FirstValidAddress));
        journal.Dispose(); // idempotent
    }

    [Fact]
    public void Records_appended_but_not_committed_are_gone_after_kill_minus_9_and_appends_resume_at_the_recovered_tail()
    {
        using var dir = new TempDirectory();
        const int committed = 200;
        const int uncommitted = 400; // ~40 KiB: several 4 KiB pages that FASTER flushes to disk uncommitted
        const int payloadBytes = 90;
        long committedUntil;
        long tailAtKill;
        using (var child = new ChildProcess("append-then-hang", dir.Path, $"{committed}", $"{uncommitted}", $"{payloadBytes}"))
        {
            committedUntil = long.Parse(child.WaitForLine("COMMITTED ", TimeSpan.FromSeconds(20))["COMMITTED ".Length..], CultureInfo.InvariantCulture);
            tailAtKill = long.Parse(child.WaitForLine("READY ", TimeSpan.FromSeconds(20))["READY ".Length..], CultureInfo.InvariantCulture);
            child.KillHard();
        }
        Assert.True(tailAtKill > committedUntil + 4096 * 4);

        using (var journal = EventJournal.Open(Journals.Small(dir.Path)))
        {
            Assert.Equal(committedUntil, journal.CommittedUntilAddress);
            Assert.Equal(committedUntil, journal.TailAddress);
            var (payloads, _, end) = Journals.ReadAll(journal);
            Assert.Equal(committed, payloads.Count);
            for (int i = 0; i < committed; i++) Assert.Equal(Journals.Payload(i, payloadBytes), payloads[i]);
            Assert.Equal(JournalReadEnd.Clean(committedUntil), end);

            // New records go where the uncommitted ones were, and only they are read back.
            Assert.Equal(committedUntil, journal.Append(Journals.Payload(-1, 33)));
            for (int i = 0; i < 100; i++) journal.Append(Journals.Payload(-2 - i, 500));
            journal.Commit();
        }
        using (var journal = EventJournal.Open(Journals.Small(dir.Path)))
        {
            var (payloads, _, end) = Journals.ReadAll(journal);
            Assert.Equal(committed + 101, payloads.Count);
            Assert.Equal(Journals.Payload(-1, 33), payloads[committed]);
            Assert.Equal(Journals.Payload(-101, 500), payloads[^1]);
            Assert.True(end.IsClean);
        }
    }

    [Fact]
    public void AcknowledgeBeforeFsync_still_persists_everything_on_clean_dispose()
    {
        using var dir = new TempDirectory();
        var log = new ListLogger();
        using (var journal = EventJournal.Open(Journals.Small(dir.Path, acknowledgeBeforeFsync: true), log))
        {
            Assert.Contains(log.Entries, line => line.Level == LogLevel.Warning && line.Message.Contains("AcknowledgeBeforeFsync is ON", StringComparison.Ordinal));
            for (int i = 0; i < 100; i++) journal.Append(Journals.Payload(i, 200));
            journal.Commit(); // returns before the fsync
            for (int i = 100; i < 150; i++) journal.Append(Journals.Payload(i, 200)); // never committed explicitly
        }
        using (var journal = EventJournal.Open(Journals.Small(dir.Path)))
        {
            var (payloads, _, end) = Journals.ReadAll(journal);
            Assert.Equal(150, payloads.Count);
            Assert.Equal(Journals.Payload(149, 200), payloads[^1]);
            Assert.True(end.IsClean);
        }
    }

    [Fact]
    public void Oversized_record_is_refused_and_the_journal_stays_usable()
    {
        using var dir = new TempDirectory();
        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        long tail = journal.TailAddress;
        var error = Assert.Throws<ArgumentException>(() => journal.Append(new byte[journal.RecordBytesMax + 1]));
        Assert.Contains("RecordBytesMax", error.Message, StringComparison.Ordinal);
        Assert.Equal(tail, journal.TailAddress);

        journal.Append(new byte[journal.RecordBytesMax]);
        journal.Append(ReadOnlySpan<byte>.Empty);
        journal.Commit();
        var (payloads, _, _) = Journals.ReadAll(journal);
        Assert.Equal([journal.RecordBytesMax, 0], payloads.Select(p => p.Length));
    }

    [Fact]
    public void Options_that_would_let_a_record_outgrow_a_page_are_refused()
    {
        using var dir = new TempDirectory();
        var options = new JournalOptions { DirectoryPath = dir.Path, PageSizeBits = 12, MemorySizeBits = 14, SegmentSizeBits = 16, RecordBytesMax = 4096 };
        Assert.Throws<ArgumentException>(() => EventJournal.Open(options));
    }

    [Fact]
    public void Segment_files_are_written_with_O_SYNC_so_a_completed_flush_is_on_stable_storage()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        using var journal = EventJournal.Open(Journals.Small(dir.Path));
        journal.Append(Journals.Payload(1, 100));
        journal.Commit();

        const int O_ACCMODE = 3, O_WRONLY = 1, O_SYNC = 0x101000; // Linux: __O_SYNC | O_DSYNC
        string segment = Journals.SegmentPath(dir.Path, 0);
        int writeHandles = 0;
        foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try { target = new FileInfo(fd).LinkTarget; }
            catch (IOException) { continue; }
            if (target != segment) continue;
            string flagsLine = File.ReadLines($"/proc/self/fdinfo/{Path.GetFileName(fd)}").First(l => l.StartsWith("flags:", StringComparison.Ordinal));
            int flags = Convert.ToInt32(flagsLine["flags:".Length..].Trim(), 8);
            if ((flags & O_ACCMODE) != O_WRONLY) continue;
            writeHandles++;
            Assert.True((flags & O_SYNC) == O_SYNC, $"segment write handle flags 0{Convert.ToString(flags, 8)} lack O_SYNC");
        }
        Assert.True(writeHandles > 0, "FASTER should hold a write handle on the segment file");
    }
}

internal static class CancellationTokenSourceExtensions
{
    public static bool IsCancelled(this CancellationTokenSource source) => source.IsCancellationRequested;
}
