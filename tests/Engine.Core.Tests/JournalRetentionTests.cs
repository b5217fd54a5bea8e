using Engine.Core;
using Engine.CrashHost;
using Engine.Domain;
using Engine.Journal;

namespace Engine.Core.Tests;

/// <summary>Engine journal retention (<see cref="EngineOptions.TruncateJournal"/>): the begin advances, recovery stays exact.</summary>
public sealed class JournalRetentionTests
{
    private const int Accounts = 20;
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    /// <summary>Small pages and 128 KiB segments, a snapshot every 1,000 events, two kept: truncation happens often.</summary>
    private static Action<EngineOptions> Retention(bool truncate) => o =>
    {
        o.TruncateJournal = truncate;
        o.SnapshotEveryEvents = 1_000;
        o.SnapshotsKept = 2;
        o.JournalPageSizeBits = 16;
        o.JournalMemorySizeBits = 18;
        o.JournalSegmentSizeBits = 17;
        o.JournalRecordBytesMax = 32 * 1024; // >= 4 × EventCodec.EncodedSizeMax (a 360-due ScheduleDues event)
        o.TickIntervalMs = 1000;
        o.Retention.EventAgeMinMs = 0; // these tests are about the snapshot bound: no age floor (the clock is frozen)
    };

    /// <summary>The same commands, in the same batches, at the same (frozen) engine time: engines end in the same state.</summary>
    private static async Task RunWorkload(CreditEngine engine, long fromCommand, long commands)
    {
        if (fromCommand == 0)
        {
            for (int i = 0; i < Accounts; i++) Assert.Equal(Status.Ok, (await engine.SubmitAsync(CrashWorkload.OpenAccount(i))).Status);
        }
        const int batchSize = 100;
        var batch = new Command[batchSize];
        var replies = new Reply[batchSize];
        for (long n = fromCommand; n < fromCommand + commands; n += batchSize)
        {
            for (int i = 0; i < batchSize; i++) batch[i] = CrashWorkload.For(n + i, Accounts);
            await engine.SubmitBatchAsync(batch, replies, waitForCapacity: true);
        }
    }

    private static CreditEngine StartEngine(TempDataDirectory data, bool truncate, Action<EngineOptions>? more = null) =>
        CreditEngine.Start(data.Options(o => { Retention(truncate)(o); more?.Invoke(o); }), new ManualClock(Start));

    private static string SegmentPath(TempDataDirectory data, long segment) =>
        Path.Combine(data.JournalDirectory, $"{EventJournal.SegmentFilePrefix}.{segment}");

    [Fact]
    public async Task With_TruncateJournal_the_begin_advances_and_a_restart_recovers_the_state_of_an_engine_that_never_truncated()
    {
        using var truncated = new TempDataDirectory();
        using var untruncated = new TempDataDirectory();
        UInt128 expected, beforeRestart;
        long truncations;
        await using (var engine = StartEngine(untruncated, truncate: false))
        {
            await RunWorkload(engine, 0, 8_000);
            await engine.StopAsync();
            expected = engine.LedgerWhenStopped.ComputeDigest();
        }
        await using (var engine = StartEngine(truncated, truncate: true))
        {
            await RunWorkload(engine, 0, 8_000);
            await engine.StopAsync(); // serves the truncation the shutdown snapshot asked for before closing the journal
            beforeRestart = engine.LedgerWhenStopped.ComputeDigest();
            truncations = engine.JournalTruncations;
        }
        Assert.Equal(expected, beforeRestart);
        Assert.True(truncations >= 3, $"a snapshot every 1,000 of ~8,000 events should truncate several times, not {truncations}");
        Assert.False(File.Exists(SegmentPath(truncated, 0)), "segment 0 lies below the begin");
        Assert.True(File.Exists(SegmentPath(untruncated, 0)));
        int truncatedFiles = Directory.GetFiles(truncated.JournalDirectory, EventJournal.SegmentFilePrefix + ".*").Length;
        int untruncatedFiles = Directory.GetFiles(untruncated.JournalDirectory, EventJournal.SegmentFilePrefix + ".*").Length;
        Assert.True(truncatedFiles < untruncatedFiles, $"{truncatedFiles} segment files kept with truncation, {untruncatedFiles} without");

        await using (var restarted = StartEngine(truncated, truncate: true, o => o.SnapshotOnShutdown = false))
        {
            Assert.True(restarted.Journal.BeginAddress > EventJournal.FirstValidAddress);
            Assert.True(restarted.Snapshots.TryGetOldestJournalAddress(out long oldestSnapshot));
            Assert.Equal(oldestSnapshot, restarted.Journal.BeginAddress); // truncated exactly to the oldest kept snapshot
            await RunWorkload(restarted, 8_000, 1_000); // and it carries on from there
            await restarted.StopAsync();
            beforeRestart = restarted.LedgerWhenStopped.ComputeDigest();
        }
        await using (var engine = StartEngine(untruncated, truncate: false, o => o.SnapshotOnShutdown = false))
        {
            await RunWorkload(engine, 8_000, 1_000);
            await engine.StopAsync();
            Assert.Equal(engine.LedgerWhenStopped.ComputeDigest(), beforeRestart);
        }
    }

    [Theory]
    [InlineData(true)]  // corrupted body
    [InlineData(false)] // deleted
    public async Task After_truncation_recovery_falls_back_to_the_older_kept_snapshot_when_the_newest_is_damaged_or_missing(bool corrupt)
    {
        using var data = new TempDataDirectory();
        UInt128 expected;
        await using (var engine = StartEngine(data, truncate: true))
        {
            await RunWorkload(engine, 0, 5_000);
            await engine.StopAsync();
            expected = engine.LedgerWhenStopped.ComputeDigest();
        }
        string[] snapshots = Directory.GetFiles(data.SnapshotDirectory, "*.snap").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(2, snapshots.Length);
        if (corrupt)
        {
            byte[] bytes = File.ReadAllBytes(snapshots[1]);
            bytes[SnapshotStore.HeaderBytes + bytes.Length / 2 - SnapshotStore.HeaderBytes / 2] ^= 0x5A;
            File.WriteAllBytes(snapshots[1], bytes);
        }
        else
        {
            File.Delete(snapshots[1]);
        }

        await using var recovered = StartEngine(data, truncate: true, o => o.SnapshotOnShutdown = false);
        Assert.True(recovered.Journal.BeginAddress > EventJournal.FirstValidAddress);
        Assert.True(recovered.Recovery.ReplayedEvents > 0, "the older snapshot is behind the newest: its log must be replayed");
        await recovered.StopAsync();
        Assert.Equal(expected, recovered.LedgerWhenStopped.ComputeDigest());
    }

    [Fact]
    public async Task Start_up_refuses_a_truncated_journal_when_no_snapshot_covers_its_begin()
    {
        using var data = new TempDataDirectory();
        await using (var engine = StartEngine(data, truncate: true))
        {
            await RunWorkload(engine, 0, 3_000);
        }
        foreach (string snapshot in Directory.GetFiles(data.SnapshotDirectory)) File.Delete(snapshot);

        var error = Assert.Throws<JournalTruncatedException>(() => StartEngine(data, truncate: true));
        Assert.True(error.BeginAddress > EventJournal.FirstValidAddress);
        Assert.Contains("no valid snapshot", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_journal_reader_overtaken_by_retention_gets_JournalTruncatedException_and_the_engine_keeps_serving()
    {
        using var data = new TempDataDirectory();
        await using var engine = StartEngine(data, truncate: true);
        await RunWorkload(engine, 0, 200);
        using JournalReader reader = engine.Journal.OpenReader(engine.Journal.BeginAddress);
        Assert.True(reader.TryReadNext(out _, out _, out _));

        // Two snapshots later the oldest kept one is past the reader: retention (on its own thread) truncates.
        await RunWorkload(engine, 200, 3_000);
        Assert.True(SpinWait.SpinUntil(() => engine.Journal.BeginAddress > reader.NextAddress, TimeSpan.FromSeconds(10)),
            "retention did not truncate past the reader");

        var error = Assert.Throws<JournalTruncatedException>(() => reader.TryReadNext(out _, out _, out _));
        Assert.Equal(reader.NextAddress, error.RequestedAddress);
        Assert.Throws<JournalTruncatedException>(() => engine.Journal.OpenReader(EventJournal.FirstValidAddress));
        Reply after = await engine.SubmitAsync(Command.Repay("after-truncation", CrashWorkload.AccountId(0), 1));
        Assert.Equal(Status.Ok, after.Status);
        Assert.Null(engine.Fault);
    }

    [Fact]
    public async Task The_newest_snapshot_opens_with_its_checksum_while_the_engine_keeps_snapshotting_and_pruning()
    {
        using var data = new TempDataDirectory();
        await using var engine = StartEngine(data, truncate: true);
        Assert.False(engine.TryOpenNewestSnapshot(out _, out _));
        await RunWorkload(engine, 0, 1_500);

        Assert.True(engine.TryOpenNewestSnapshot(out SnapshotInfo info, out Stream body));
        using (body)
        {
            await RunWorkload(engine, 1_500, 3_000); // several newer snapshots: this file is pruned while open
            Assert.False(File.Exists(info.Path));
            using var copy = new MemoryStream();
            await body.CopyToAsync(copy);
            Assert.Equal(info.BodyLength, copy.Length);
            Assert.Equal(info.BodyCrc32C, Crc32COf(copy.ToArray()));
            Ledger fromSnapshot = Ledger.ReadSnapshot(new MemoryStream(copy.ToArray()), new LedgerOptions());
            Assert.Equal(info.Sequence, fromSnapshot.LastSequence);
        }
        Assert.True(info.JournalAddress >= EventJournal.FirstValidAddress);
    }

    [Fact]
    public async Task JournalRetainBytesMin_keeps_at_least_that_much_log_before_the_committed_end()
    {
        const long retainBytes = 256 * 1024;
        using var data = new TempDataDirectory();
        await using (var engine = StartEngine(data, truncate: true, o => o.JournalRetainBytesMin = retainBytes))
        {
            await RunWorkload(engine, 0, 8_000);
        }
        await using var restarted = StartEngine(data, truncate: true, o => { o.JournalRetainBytesMin = retainBytes; o.SnapshotOnShutdown = false; });
        EventJournal journal = restarted.Journal;
        Assert.True(restarted.Snapshots.TryGetOldestJournalAddress(out long oldestSnapshot));
        Assert.True(journal.BeginAddress > EventJournal.FirstValidAddress, "an 8,000-command log is longer than 256 KiB: it is truncated");
        Assert.True(journal.CommittedUntilAddress - journal.BeginAddress >= retainBytes,
            $"begin {journal.BeginAddress}, committed end {journal.CommittedUntilAddress}: less than {retainBytes} bytes kept");
        Assert.True(journal.BeginAddress < oldestSnapshot, "the byte floor, not the snapshot, decided the begin");
        Assert.Equal(0, journal.BeginAddress & ((1 << 16) - 1)); // rounded to a page start
    }

    [Fact]
    public void TruncateJournal_needs_at_least_two_kept_snapshots()
    {
        var options = new EngineOptions { TruncateJournal = true, SnapshotsKept = 1 };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("SnapshotsKept", error.Message, StringComparison.Ordinal);
        Assert.True(new EngineOptions().TruncateJournal); // on by default: the journal does not grow without bound
    }

    /// <summary>CRC-32C (Castagnoli), bit by bit: an independent check of the header's checksum.</summary>
    private static uint Crc32COf(byte[] bytes)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }
}
