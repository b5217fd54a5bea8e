using Engine.Testing;
using System.Collections.Concurrent;
using Engine.Core;
using Engine.CrashHost;
using Engine.Domain;
using Engine.Journal;

namespace Engine.Core.Tests;

/// <summary>
/// Retention beyond recovery's need (<see cref="RetentionOptions"/>): the age floor, the disk budget and named consumer
/// cursors. Tiny pages and segments and a snapshot every 1,000 events, so the snapshot rule alone would truncate after
/// every snapshot; a hand-moved clock stands in for days passing; passes run synchronously (<c>RunRetentionPass</c>).
/// </summary>
public sealed class RetentionFloorAndCursorTests
{
    private const int Accounts = 20;
    private const int PageBytes = 1 << 16;
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    private sealed class Harness : IAsyncDisposable
    {
        public ManualClock Clock { get; } = new(Start);
        public ListLogger Log { get; } = new();
        public TempDataDirectory Data { get; } = new();
        public CreditEngine Engine { get; private set; } = null!;
        private readonly Action<RetentionOptions> _configure;
        private long _commands;

        public Harness(Action<RetentionOptions> configure)
        {
            _configure = configure;
            Engine = StartEngine();
        }

        public CreditEngine StartEngine() => CreditEngine.Start(Data.Options(o =>
        {
            o.TruncateJournal = true;
            o.SnapshotEveryEvents = 1_000;
            o.SnapshotsKept = 2;
            o.JournalPageSizeBits = 16;
            o.JournalMemorySizeBits = 18;
            o.JournalSegmentSizeBits = 17;
            o.JournalRecordBytesMax = 32 * 1024; // >= 4 × EventCodec.EncodedSizeMax (a 360-due ScheduleDues event)
            o.TickIntervalMs = 1000;
            _configure(o.Retention);
        }), Clock, Log);

        public async Task RestartAsync()
        {
            await Engine.StopAsync();
            Engine = StartEngine();
        }

        /// <summary>Runs <paramref name="commands"/> more commands (opening the accounts first); returns the last sequence.</summary>
        public async Task<long> RunAsync(int commands)
        {
            if (_commands == 0)
            {
                for (int i = 0; i < Accounts; i++) Assert.Equal(Status.Ok, (await Engine.SubmitAsync(CrashWorkload.OpenAccount(i))).Status);
            }
            const int batchSize = 100;
            var batch = new Command[batchSize];
            var replies = new Reply[batchSize];
            long last = 0;
            for (int n = 0; n < commands; n += batchSize)
            {
                for (int i = 0; i < batchSize; i++) batch[i] = CrashWorkload.For(_commands + n + i, Accounts);
                await Engine.SubmitBatchAsync(batch, replies, waitForCapacity: true);
                last = Math.Max(last, replies.Max(r => r.Sequence));
            }
            _commands += commands;
            return last;
        }

        public List<LedgerEvent> Retained() => JournalEvents.ReadAll(Engine.Journal);

        public async ValueTask DisposeAsync()
        {
            await Engine.StopAsync();
            Data.Dispose();
        }
    }

    private static void AssertDense(List<LedgerEvent> events, long from, long through)
    {
        Assert.True(events.Count > 0);
        Assert.True(events[0].Sequence <= from, $"the journal begins at sequence {events[0].Sequence}, after {from}");
        for (int i = 1; i < events.Count; i++) Assert.Equal(events[i - 1].Sequence + 1, events[i].Sequence);
        Assert.True(events[^1].Sequence >= through);
    }

    [Fact]
    public async Task The_age_floor_holds_back_truncation_past_several_snapshots_until_the_events_are_older_than_it()
    {
        await using var h = new Harness(r => r.EventAgeMinMs = 3_600_000);
        long firstRunLast = await h.RunAsync(4_000); // four snapshots: the snapshot rule alone would truncate
        h.Engine.RunRetentionPass();
        Assert.Equal(EventJournal.FirstValidAddress, h.Engine.Journal.BeginAddress);
        Assert.Equal(RetentionHolder.AgeFloor, h.Engine.RetentionStatus.HeldBy);
        Assert.Equal(1, h.Engine.RetentionStatus.OldestSequence);

        h.Clock.Advance(TimeSpan.FromHours(2)); // the first run is now older than the floor, the second will not be
        long secondRunLast = await h.RunAsync(4_000);
        h.Engine.RunRetentionPass();
        Assert.True(h.Engine.Journal.BeginAddress > EventJournal.FirstValidAddress, "events older than the floor are truncated");
        List<LedgerEvent> retained = h.Retained();
        AssertDense(retained, firstRunLast + 1, secondRunLast); // every event younger than the floor is still there
        Assert.All(retained.Where(e => e.Sequence <= firstRunLast), e => Assert.Equal(Start.ToUnixTimeMilliseconds(), e.TimestampUnixMs));
        Assert.True(firstRunLast - retained[0].Sequence < 1_000, "at most about a page of older events is kept beyond the floor");
    }

    [Fact]
    public async Task The_disk_budget_overrides_the_age_floor_and_a_cursor_with_a_warning_and_a_status_flag()
    {
        const long budgetBytes = 3 * PageBytes;
        await using var h = new Harness(r => r.DiskBudgetBytes = budgetBytes); // default floor: 7 days, nothing is that old
        h.Engine.Cursors.Register("warehouse", 0, Start.ToUnixTimeMilliseconds(), out _);
        await h.RunAsync(8_000);
        h.Engine.RunRetentionPass();

        RetentionStatus status = h.Engine.RetentionStatus;
        Assert.True(h.Engine.Journal.BeginAddress > EventJournal.FirstValidAddress, "the budget forced truncation inside the floor");
        Assert.True(status.BudgetOverrides >= 1);
        Assert.Contains("disk budget", status.LastWarning, StringComparison.Ordinal);
        Assert.Contains(h.Log.Entries, line => line.Level == LogLevel.Warning && line.Message.StartsWith("journal retention: the journal holds", StringComparison.Ordinal));
        Assert.True(h.Engine.Snapshots.TryGetOldestJournalAddress(out long oldestSnapshot));
        Assert.True(h.Engine.Journal.BeginAddress <= oldestSnapshot, "never past what recovery needs");
        long retained = h.Engine.Journal.CommittedUntilAddress - h.Engine.Journal.BeginAddress;
        Assert.True(retained <= Math.Max(budgetBytes, h.Engine.Journal.CommittedUntilAddress - oldestSnapshot), $"{retained} bytes retained");

        // The cursor's events were truncated under it: it is dropped and says why.
        Assert.True(h.Engine.Cursors.TryGet("warehouse", out ConsumerCursor cursor));
        Assert.True(cursor.Dropped);
        Assert.Contains("disk budget", cursor.DroppedReason, StringComparison.Ordinal);
        var refused = Assert.Throws<ConsumerCursorException>(() => h.Engine.Cursors.Register("warehouse", 0, 0, out _));
        Assert.Equal(ConsumerCursorError.Dropped, refused.Error);
    }

    [Fact]
    public async Task A_consumer_cursor_holds_retention_past_several_snapshots_until_it_acknowledges()
    {
        await using var h = new Harness(r => r.EventAgeMinMs = 0); // no floor: only the snapshot rule and the cursor
        h.Engine.Cursors.Register("statements", 0, Start.ToUnixTimeMilliseconds(), out bool created);
        Assert.True(created);
        long last = await h.RunAsync(6_000);
        h.Engine.RunRetentionPass();
        Assert.Equal(EventJournal.FirstValidAddress, h.Engine.Journal.BeginAddress);
        Assert.Equal("cursor:statements", h.Engine.RetentionStatus.HeldBy);
        AssertDense(h.Retained(), 1, last); // the consumer that stayed away resumes from sequence 1 without a gap

        long acked = last / 2;
        Assert.Equal(acked, h.Engine.Cursors.Acknowledge("statements", acked, Start.ToUnixTimeMilliseconds()).AckedSequence);
        Assert.Equal(acked, h.Engine.Cursors.Acknowledge("statements", acked - 10, Start.ToUnixTimeMilliseconds()).AckedSequence); // never backwards
        h.Engine.RunRetentionPass();
        Assert.True(h.Engine.Journal.BeginAddress > EventJournal.FirstValidAddress, "acknowledged events are released");
        AssertDense(h.Retained(), acked + 1, last);

        Assert.True(h.Engine.Cursors.Delete("statements"));
        h.Engine.RunRetentionPass();
        Assert.True(h.Engine.Snapshots.TryGetOldestJournalAddress(out long oldestSnapshot));
        Assert.Equal(oldestSnapshot, h.Engine.Journal.BeginAddress); // nothing holds beyond recovery now
        Assert.Equal(RetentionHolder.Snapshot, h.Engine.RetentionStatus.HeldBy);
    }

    [Fact]
    public async Task A_cursor_past_its_max_lag_is_dropped_reported_and_refused_and_stays_dropped_after_a_restart()
    {
        await using var h = new Harness(r => { r.EventAgeMinMs = 0; r.CursorLagMaxMs = 3_600_000; });
        h.Engine.Cursors.Register("risk", 0, Start.ToUnixTimeMilliseconds(), out _);
        long last = await h.RunAsync(3_000);
        h.Engine.RunRetentionPass();
        Assert.False(h.Engine.Cursors.All.Single().Dropped);
        Assert.Equal(0, h.Engine.RetentionStatus.CursorLags.Single().LagMs);
        Assert.True(h.Engine.RetentionStatus.CursorLags.Single().LagBytes > 0);

        h.Clock.Advance(TimeSpan.FromMinutes(61));
        h.Engine.RunRetentionPass();
        ConsumerCursor dropped = h.Engine.Cursors.All.Single();
        Assert.True(dropped.Dropped);
        Assert.Contains("CursorLagMaxMs", dropped.DroppedReason, StringComparison.Ordinal);
        Assert.Empty(h.Engine.RetentionStatus.CursorLags);
        Assert.Contains(h.Log.Messages, line => line.Contains("consumer cursor 'risk' DROPPED", StringComparison.Ordinal));
        Assert.True(h.Engine.Journal.BeginAddress > EventJournal.FirstValidAddress, "a dropped cursor holds nothing");

        await h.RestartAsync();
        Assert.True(h.Engine.Cursors.All.Single().Dropped);
        var register = Assert.Throws<ConsumerCursorException>(() => h.Engine.Cursors.Register("risk", last, 0, out _));
        Assert.Equal(ConsumerCursorError.Dropped, register.Error);
        Assert.Contains("DeleteCursor", register.Message, StringComparison.Ordinal);
        Assert.Equal(ConsumerCursorError.Dropped, Assert.Throws<ConsumerCursorException>(() => h.Engine.Cursors.Acknowledge("risk", last, 0)).Error);
        Assert.True(h.Engine.Cursors.Delete("risk"));
        h.Engine.Cursors.Register("risk", last, 0, out bool again);
        Assert.True(again);
    }

    [Fact]
    public async Task Cursors_survive_a_restart_of_the_engine_with_their_acknowledged_positions()
    {
        await using var h = new Harness(r => r.EventAgeMinMs = 0);
        h.Engine.Cursors.Register("a", 0, Start.ToUnixTimeMilliseconds(), out _);
        h.Engine.Cursors.Register("b", 5, Start.ToUnixTimeMilliseconds(), out _);
        long last = await h.RunAsync(3_000);
        h.Engine.Cursors.Acknowledge("a", 1_234, Start.ToUnixTimeMilliseconds() + 7);
        await h.RestartAsync();

        Assert.Equal(["a", "b"], h.Engine.Cursors.All.Select(c => c.Name));
        Assert.Equal(1_234, h.Engine.Cursors.All[0].AckedSequence);
        Assert.Equal(Start.ToUnixTimeMilliseconds() + 7, h.Engine.Cursors.All[0].AckedAtUnixMs);
        Assert.Equal(5, h.Engine.Cursors.All[1].AckedSequence);
        h.Engine.RunRetentionPass();
        Assert.Equal("cursor:b", h.Engine.RetentionStatus.HeldBy); // and they hold retention again at once
        AssertDense(h.Retained(), 6, last);
        Assert.False(File.Exists(Path.Combine(h.Data.Path, ConsumerCursors.FileName + AtomicFile.TemporarySuffix)));
    }

    [Fact]
    public async Task The_number_of_cursors_is_bounded_by_CursorsMax()
    {
        await using var h = new Harness(r => r.CursorsMax = 2);
        h.Engine.Cursors.Register("one", 0, 0, out _);
        h.Engine.Cursors.Register("two", 0, 0, out _);
        var error = Assert.Throws<ConsumerCursorException>(() => h.Engine.Cursors.Register("three", 0, 0, out _));
        Assert.Equal(ConsumerCursorError.LimitReached, error.Error);
        Assert.Contains("Engine:Retention:CursorsMax", error.Message, StringComparison.Ordinal);
        h.Engine.Cursors.Register("one", 0, 0, out bool created); // an existing one is resumed, not counted again
        Assert.False(created);
    }

    [Theory]
    [InlineData("EventAgeMinMs")]
    [InlineData("DiskBudgetBytes")]
    [InlineData("CursorsMax")]
    [InlineData("CursorLagMaxMs")]
    [InlineData("CursorLagBytesMax")]
    [InlineData("CheckIntervalMs")]
    public void Invalid_retention_settings_are_refused_naming_the_setting(string setting)
    {
        var options = new EngineOptions();
        typeof(RetentionOptions).GetProperty(setting)!.SetValue(options.Retention, setting switch
        {
            "CursorsMax" or "CheckIntervalMs" => (object)(-1),
            _ => -1L,
        });
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains($"Engine:Retention:{setting}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Retention_defaults_keep_seven_days_of_events_and_bound_cursors()
    {
        var defaults = new RetentionOptions();
        Assert.Equal(7 * RetentionOptions.DayMs, defaults.EventAgeMinMs);
        Assert.Equal(7 * RetentionOptions.DayMs, defaults.CursorLagMaxMs);
        Assert.Equal(0, defaults.DiskBudgetBytes); // automatic
        Assert.Equal(64, defaults.CursorsMax);
    }
}
