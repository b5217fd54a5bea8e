using Engine.Testing;
using Engine.Core;
using Engine.Domain;
using Engine.Journal;

namespace Engine.Core.Tests;

/// <summary>What the engine does at start-up when the journal on disk is damaged.</summary>
public sealed class JournalDamageTests
{
    private static readonly Action<EngineOptions> NoShutdownSnapshot = o => o.SnapshotOnShutdown = false;

    [Fact]
    public async Task A_damaged_committed_tail_stops_start_up_naming_the_address_and_the_last_good_sequence()
    {
        using var data = new TempDataDirectory();
        await WriteOneRecordPerCommand(data, commands: 30);
        List<(long Address, long Next)> records = RecordAddresses(data);
        (long lastAddress, long committedEnd) = records[^1];
        // The last committed record lost its end: it was fsync'd and acknowledged, so this is damage, not a crash artefact.
        TruncateSegment(data, lastAddress + 10);

        var error = Assert.Throws<CommittedTailDamagedException>(() => CreditEngine.Start(data.Options(NoShutdownSnapshot)));
        Assert.Equal(lastAddress, error.DamagedAddress);
        Assert.Equal(committedEnd, error.CommittedUntilAddress);
        Assert.Equal(29, error.LastGoodSequence); // 30 events were written (OpenAccount + 29 repays); the 30th is damaged
        Assert.Equal(0, error.LogEpoch);
        Assert.Contains($"address {lastAddress}", error.Message, StringComparison.Ordinal);
        Assert.Contains("after sequence 29", error.Message, StringComparison.Ordinal);
        Assert.Contains("Engine:Recovery:CutDamagedTail=true", error.Message, StringComparison.Ordinal);

        // Refusing changed nothing: the next start refuses the same way.
        var again = Assert.Throws<CommittedTailDamagedException>(() => CreditEngine.Start(data.Options(NoShutdownSnapshot)));
        Assert.Equal(lastAddress, again.DamagedAddress);
    }

    [Fact]
    public async Task With_CutDamagedTail_the_damaged_tail_is_cut_and_the_log_epoch_rises_and_persists_across_restart()
    {
        using var data = new TempDataDirectory();
        await WriteOneRecordPerCommand(data, commands: 30);
        List<(long Address, long Next)> records = RecordAddresses(data);
        (long lastAddress, _) = records[^1];
        TruncateSegment(data, lastAddress + 10);

        long lastSequence;
        var log = new ListLogger();
        await using (var engine = CreditEngine.Start(data.Options(o => { NoShutdownSnapshot(o); o.Recovery.CutDamagedTail = true; }), logger: log))
        {
            Assert.Equal(lastAddress, engine.Recovery.TornTailCutAtAddress);
            Assert.Equal(1, engine.Recovery.LogEpoch);
            Assert.Equal(1, engine.Journal.LogEpoch);
            Assert.Contains(log.Entries, l => l.Level == LogLevel.Warning && l.Message.Contains($"address {lastAddress}", StringComparison.Ordinal));
            lastSequence = engine.Recovery.LastSequence;
            Assert.Equal(29, lastSequence);
            Reply next = await engine.SubmitAsync(Command.Repay("after-cut", "a", 1));
            Assert.Equal(lastSequence + 1, next.Sequence); // sequence 30 is re-used: that is what the new epoch announces
        }
        // The setting is not needed again (nothing is damaged now), and the epoch stays.
        await using (var engine = CreditEngine.Start(data.Options(NoShutdownSnapshot)))
        {
            Assert.Null(engine.Recovery.TornTailCutAtAddress);
            Assert.Equal(1, engine.Recovery.LogEpoch);
            Assert.Equal(lastSequence + 1, engine.Recovery.LastSequence);
            Reply replayed = await engine.SubmitAsync(Command.Repay("after-cut", "a", 1));
            Assert.True(replayed.Replayed);
        }
    }

    [Fact]
    public async Task A_torn_write_beyond_the_committed_end_is_dropped_silently_without_a_new_epoch()
    {
        using var data = new TempDataDirectory();
        await WriteOneRecordPerCommand(data, commands: 10);
        List<(long Address, long Next)> records = RecordAddresses(data);
        long committedEnd = records[^1].Next;
        // What a crash in the middle of the next (never acknowledged) commit leaves: bytes after the committed end.
        using (var file = new FileStream(SegmentPath(data), FileMode.Open, FileAccess.Write))
        {
            file.Position = committedEnd;
            file.Write(Enumerable.Repeat((byte)0xA5, 300).ToArray());
        }

        await using var engine = CreditEngine.Start(data.Options(NoShutdownSnapshot));
        Assert.Null(engine.Recovery.TornTailCutAtAddress);
        Assert.Equal(0, engine.Recovery.LogEpoch);
        Assert.Equal(10, engine.Recovery.LastSequence);
        Reply next = await engine.SubmitAsync(Command.Repay("after-crash", "a", 1));
        Assert.Equal(11, next.Sequence);
    }

    [Fact]
    public async Task A_corrupt_record_in_the_middle_of_the_log_stops_start_up_naming_its_address()
    {
        using var data = new TempDataDirectory();
        await WriteOneRecordPerCommand(data, commands: 30);
        List<(long Address, long Next)> records = RecordAddresses(data);
        (long middle, long middleNext) = records[records.Count / 2];
        FlipByte(data, middle + (middleNext - middle) / 2);

        var error = Assert.Throws<JournalCorruptException>(() => CreditEngine.Start(data.Options(NoShutdownSnapshot)));
        Assert.Equal(middle, error.Address);
        Assert.Contains(middle.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
    }

    /// <summary>Submits one command at a time, so each becomes its own journal record.</summary>
    private static async Task WriteOneRecordPerCommand(TempDataDirectory data, int commands)
    {
        await using var engine = CreditEngine.Start(data.Options(NoShutdownSnapshot));
        await engine.SubmitAsync(Command.OpenAccount("open", "a", "c", "USD", 1_000));
        for (int i = 1; i < commands; i++) await engine.SubmitAsync(Command.Repay($"repay-{i}", "a", 1));
    }

    private static List<(long Address, long Next)> RecordAddresses(TempDataDirectory data)
    {
        var records = new List<(long, long)>();
        using EventJournal journal = EventJournal.Open(new JournalOptions { DirectoryPath = data.JournalDirectory });
        using JournalReader reader = journal.OpenReader(journal.BeginAddress);
        while (reader.TryReadNext(out ReadOnlySpan<byte> payload, out long address, out long next))
        {
            if (payload.Length > EventBlock.HeaderBytes) records.Add((address, next));
        }
        return records;
    }

    private static string SegmentPath(TempDataDirectory data) => Path.Combine(data.JournalDirectory, EventJournal.SegmentFilePrefix + ".0");

    private static void TruncateSegment(TempDataDirectory data, long length)
    {
        using var file = new FileStream(SegmentPath(data), FileMode.Open, FileAccess.Write);
        file.SetLength(length);
    }

    private static void FlipByte(TempDataDirectory data, long offset)
    {
        using var file = new FileStream(SegmentPath(data), FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        int value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ 0xFF));
    }
}
