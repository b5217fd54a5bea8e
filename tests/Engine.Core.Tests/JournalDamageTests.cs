using Engine.Core;
using Engine.Domain;
using Engine.Journal;

namespace Engine.Core.Tests;

/// <summary>What the engine does at start-up when the journal on disk is damaged.</summary>
public sealed class JournalDamageTests
{
    private static readonly Action<EngineOptions> NoShutdownSnapshot = o => o.SnapshotOnShutdown = false;

    [Fact]
    public async Task A_torn_tail_is_cut_back_to_the_last_valid_record_and_the_engine_carries_on()
    {
        using var data = new TempDataDirectory();
        await WriteOneRecordPerCommand(data, commands: 30);
        List<(long Address, long Next)> records = RecordAddresses(data);
        (long lastAddress, _) = records[^1];
        // A crash in the middle of writing the last record: the file ends 10 bytes into it.
        TruncateSegment(data, lastAddress + 10);

        long lastSequence;
        await using (var engine = CreditEngine.Start(data.Options(NoShutdownSnapshot)))
        {
            Assert.Equal(lastAddress, engine.Recovery.TornTailCutAtAddress);
            lastSequence = engine.Recovery.LastSequence;
            Assert.Equal(29, lastSequence); // 30 events were written (OpenAccount + 29 repays); the torn last one is gone
            Reply next = await engine.SubmitAsync(Command.Repay("after-cut", "a", 1));
            Assert.Equal(lastSequence + 1, next.Sequence);
        }
        await using (var engine = CreditEngine.Start(data.Options(NoShutdownSnapshot)))
        {
            Assert.Null(engine.Recovery.TornTailCutAtAddress);
            Assert.Equal(lastSequence + 1, engine.Recovery.LastSequence);
            Reply replayed = await engine.SubmitAsync(Command.Repay("after-cut", "a", 1));
            Assert.True(replayed.Replayed);
        }
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
