using Engine.Testing;
using Engine.Core;
using Engine.Domain;
using Xunit.Abstractions;

namespace Engine.Core.Tests;

/// <summary>
/// The idempotency window holds beyond the memory bound (README "Idempotency"): ids spill to the FASTER store under
/// &lt;data&gt;/idempotency, still replay, and still replay after the engine really reopens from disk — from the whole
/// log, and from a snapshot. The store is sized tiny so that most spilled ids live on disk.
/// </summary>
public sealed class IdempotencySpillEngineTests(ITestOutputHelper output)
{
    private const int MemoryIds = 1_000;
    private const int Requests = 100_000;
    private static readonly DateTimeOffset Start = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static EngineOptions Spilling(TempDataDirectory data, bool snapshotOnShutdown, LedgerOptions? ledger = null) => data.Options(o =>
    {
        o.Ledger = ledger ?? new LedgerOptions { IdempotencyMaxEntries = MemoryIds };
        o.IdempotencySpill = true;
        o.IdempotencySpillIndexSizeBits = 10; // 1,024 buckets: tags collide more than a sized index would
        o.IdempotencySpillMemorySizeBits = 16; // 64 KiB of log in memory: about 800 of the 99,000 spilled ids
        o.IdempotencySpillPageSizeBits = 12;
        o.SnapshotOnShutdown = snapshotOnShutdown;
    });

    [Fact]
    public async Task The_oldest_of_100000_requests_replays_with_1000_ids_in_memory_before_and_after_restarts()
    {
        using var data = new TempDataDirectory();
        var clock = new ManualClock(Start);
        Reply first, capture, repay;
        Command captureCommand = Command.Capture("cap-1", "auth-1", 300, final: false);
        Command repayCommand = Command.Repay("repay-1", "acct-1", 200);
        Command firstCommand = Command.OpenAccount("first", "acct-1", "cust", "USD", 1_000_000_000);

        // Run 1: no shutdown snapshot, so the next start rebuilds everything (spill store included) from the log.
        await using (var engine = CreditEngine.Start(Spilling(data, snapshotOnShutdown: false), clock))
        {
            first = await engine.SubmitAsync(firstCommand);
            await engine.SubmitAsync(Command.Authorize("auth-1", "acct-1", 500, "USD"));
            capture = await engine.SubmitAsync(captureCommand);
            repay = await engine.SubmitAsync(repayCommand);
            var commands = new Command[1_000];
            var replies = new Reply[commands.Length];
            for (int batch = 0; batch < Requests / commands.Length; batch++)
            {
                for (int i = 0; i < commands.Length; i++) commands[i] = Command.Repay($"fill-{batch}-{i}", "acct-1", 1);
                await engine.SubmitBatchAsync(commands, replies, waitForCapacity: true);
                Assert.All(replies, r => Assert.Equal(Status.Ok, r.Status));
            }
            Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(data.Path, "idempotency")));

            await AssertRetriesReplay(engine);
            // A new id is accepted, not mistaken for a spilled one.
            Reply fresh = await engine.SubmitAsync(Command.Repay("fresh-1", "acct-1", 1));
            Assert.Equal(Status.Ok, fresh.Status);
            Assert.False(fresh.Replayed);

            clock.Advance(TimeSpan.FromSeconds(2)); // the window is published at most once a second of engine time
            await engine.SubmitAsync(Command.Repay("publish-1", "acct-1", 1));
            IdempotencyWindowStatus window = engine.IdempotencyWindow;
            output.WriteLine($"spilled {window.SpilledEntries}, disk reads {window.SpillDiskReads}, of them for unknown ids {window.SpillNegativeDiskReads}");
            Assert.True(window.SpillEnabled);
            Assert.False(window.BelowConfigured);
            Assert.Equal(Start.ToUnixTimeMilliseconds(), window.OldestTimestampUnixMs);
            Assert.Equal(2_000, window.EffectiveWindowMs);
            Assert.True(window.SpilledEntries > Requests - MemoryIds, $"spilled {window.SpilledEntries}");
            Assert.True(window.SpillDiskReads > 0, "the retries of spilled ids read the disk");
            // Every one of the ~100,000 new ids was looked up in the store; its in-memory index answered nearly all.
            Assert.True(window.SpillNegativeDiskReads < Requests / 100, $"{window.SpillNegativeDiskReads} unknown ids read the disk");
        }

        // Run 2: recovered from the log alone; its shutdown snapshot carries both tiers.
        await using (var engine = CreditEngine.Start(Spilling(data, snapshotOnShutdown: true), clock))
        {
            Assert.Equal(0, engine.Recovery.SnapshotSequence);
            Assert.True(engine.IdempotencyWindow.SpilledEntries > Requests - MemoryIds);
            await AssertRetriesReplay(engine);
        }

        // Run 3: recovered from that snapshot.
        await using (var engine = CreditEngine.Start(Spilling(data, snapshotOnShutdown: false), clock))
        {
            Assert.True(engine.Recovery.SnapshotSequence > Requests);
            Assert.Equal(0, engine.Recovery.ReplayedEvents);
            IdempotencyWindowStatus window = engine.IdempotencyWindow;
            Assert.Equal(Start.ToUnixTimeMilliseconds(), window.OldestTimestampUnixMs);
            Assert.True(window.SpilledEntries > Requests - MemoryIds);
            await AssertRetriesReplay(engine);
        }

        async Task AssertRetriesReplay(CreditEngine engine)
        {
            Assert.Equal(first with { Replayed = true }, await engine.SubmitAsync(firstCommand));
            Reply capturedAgain = await engine.SubmitAsync(captureCommand);
            Reply repaidAgain = await engine.SubmitAsync(repayCommand);
            Assert.Equal(capture with { Replayed = true }, capturedAgain);
            Assert.Equal(repay with { Replayed = true }, repaidAgain);
            // Nothing posted twice: the balance moves only by this probe's own repayment of 1.
            Reply probe = await engine.SubmitAsync(Command.Repay($"probe-{Guid.NewGuid():N}", "acct-1", 1));
            Assert.False(probe.Replayed);
            long repaidSoFar = probe.PostedMinor; // posted = 300 captured − 200 − fills − probes
            Assert.Equal(300 - 200, repaidSoFar + (probe.Sequence - repay.Sequence));
        }
    }

    [Fact]
    public async Task Spilled_ids_beyond_the_window_leave_the_store_and_the_rest_still_replay_after_a_restart()
    {
        using var data = new TempDataDirectory();
        var clock = new ManualClock(Start);
        var window = new LedgerOptions { IdempotencyMaxEntries = 100, IdempotencyMinEntries = 2_000, IdempotencyMinAgeMs = 0 };
        Command oldest = Command.OpenAccount("oldest", "acct-1", "cust", "USD", 1_000_000_000);
        Command recent = Command.Repay("recent", "acct-1", 3);
        Reply recentReply;
        await using (var engine = CreditEngine.Start(Spilling(data, snapshotOnShutdown: true, window), clock))
        {
            await engine.SubmitAsync(oldest);
            await FillAsync(engine, "a", 5 * IdempotencyTable.SpillBlockEntries);
            recentReply = await engine.SubmitAsync(recent);
            await FillAsync(engine, "b", 1_000); // "recent" is spilled (beyond 100 in memory) but inside the newest 2,000
            clock.Advance(TimeSpan.FromSeconds(2));
            await engine.SubmitAsync(Command.Repay("publish", "acct-1", 1));
            IdempotencyWindowStatus status = engine.IdempotencyWindow;
            Assert.InRange(status.Entries, 2_000, 2_000 + 2 * IdempotencyTable.SpillBlockEntries);
            Assert.True(status.OldestTimestampUnixMs > Start.ToUnixTimeMilliseconds(), "the oldest blocks were forgotten");
            Assert.Equal(recentReply with { Replayed = true }, await engine.SubmitAsync(recent));
        }
        await using (var engine = CreditEngine.Start(Spilling(data, snapshotOnShutdown: false, window), clock))
        {
            Assert.InRange(engine.IdempotencyWindow.Entries, 2_000, 2_000 + 2 * IdempotencyTable.SpillBlockEntries);
            Assert.Equal(recentReply with { Replayed = true }, await engine.SubmitAsync(recent));
            // Beyond the window: the id is new again (an OpenAccount of an existing account says so).
            Assert.Equal(Status.AccountExists, (await engine.SubmitAsync(oldest)).Status);
        }

        async Task FillAsync(CreditEngine engine, string prefix, int count)
        {
            var commands = new Command[100];
            var replies = new Reply[commands.Length];
            for (int batch = 0; batch < count / commands.Length; batch++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(1)); // older than the minimum age of 0 ms
                for (int i = 0; i < commands.Length; i++) commands[i] = Command.Repay($"{prefix}-{batch}-{i}", "acct-1", 1);
                await engine.SubmitBatchAsync(commands, replies, waitForCapacity: true);
            }
        }
    }

    [Fact]
    public async Task With_spill_off_the_memory_bound_forgets_ids_inside_the_window_and_the_engine_warns()
    {
        using var data = new TempDataDirectory();
        var clock = new ManualClock(Start);
        var log = new ListLogger();
        EngineOptions options = data.Options(o =>
        {
            o.Ledger = new LedgerOptions { IdempotencyMaxEntries = 100 };
            o.IdempotencySpill = false;
        });
        await using var engine = CreditEngine.Start(options, clock, log);
        await engine.SubmitAsync(Command.OpenAccount("open", "acct-1", "cust", "USD", 1_000_000));
        Command first = Command.Repay("first", "acct-1", 1);
        await engine.SubmitAsync(first);
        for (int i = 0; i < 1_000; i++) await engine.SubmitAsync(Command.Repay($"r-{i}", "acct-1", 1));
        clock.Advance(TimeSpan.FromSeconds(2));
        await engine.SubmitAsync(Command.Repay("publish", "acct-1", 1));

        IdempotencyWindowStatus window = engine.IdempotencyWindow;
        Assert.False(window.SpillEnabled);
        Assert.True(window.BelowConfigured);
        Assert.Equal(100, window.Entries);
        Assert.True(window.EvictedInsideWindow >= 900, $"evicted {window.EvictedInsideWindow}");
        Assert.Contains(log.Entries, line => line.Level == LogLevel.Warning && line.Message.StartsWith("idempotency window below the configured one", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(data.Path, "idempotency")));
        // This is what the spill tier prevents: the forgotten id runs again.
        Assert.False((await engine.SubmitAsync(first)).Replayed);
    }

    [Fact]
    public async Task Enlarging_the_idempotency_window_between_runs_does_not_make_recovery_throw()
    {
        using var data = new TempDataDirectory();
        var clock = new ManualClock(Start);
        var small = new LedgerOptions { IdempotencyMinEntries = 3, IdempotencyMinAgeMs = 0 };
        Command dup = Command.Repay("dup", "acct-1", 1);
        Command old = Command.Repay("old", "acct-1", 5);

        // Run 1, small window: its shutdown snapshot holds "dup" in a table sized for that window.
        await using (var engine = CreditEngine.Start(data.Options(o => { o.Ledger = small; o.SnapshotOnShutdown = true; }), clock))
        {
            await engine.SubmitAsync(Command.OpenAccount("open", "acct-1", "cust", "USD", 1_000_000));
            await engine.SubmitAsync(dup);
        }
        // Run 2, same window: "dup" is forgotten, then used again; no snapshot, so the next start replays both runs' tail.
        Reply second;
        await using (var engine = CreditEngine.Start(data.Options(o => { o.Ledger = small; o.SnapshotOnShutdown = false; }), clock))
        {
            await engine.SubmitAsync(old);
            for (int i = 0; i < 10; i++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(1));
                await engine.SubmitAsync(Command.Repay($"r-{i}", "acct-1", 1));
            }
            second = await engine.SubmitAsync(Command.Repay("dup", "acct-1", 2));
            Assert.False(second.Replayed);
        }
        // Run 3, a larger window: recovery succeeds and the old ids replay.
        await using (var engine = CreditEngine.Start(data.Options(o => o.Ledger = new LedgerOptions { IdempotencyMinEntries = 1_000, IdempotencyMinAgeMs = 0 }), clock))
        {
            Assert.True(engine.Recovery.SnapshotSequence > 0);
            Assert.Equal(second with { Replayed = true }, await engine.SubmitAsync(Command.Repay("dup", "acct-1", 2)));
            Assert.True((await engine.SubmitAsync(old)).Replayed);
        }
    }
}
