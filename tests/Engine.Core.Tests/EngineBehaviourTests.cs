using Engine.Core;
using Engine.Domain;
using Engine.Journal;

namespace Engine.Core.Tests;

public sealed class EngineBehaviourTests
{
    private static Command Open(string id, long limit = 10_000) => Command.OpenAccount($"open-{id}", id, "cust", "USD", limit);

    [Fact]
    public async Task A_reply_is_released_only_after_its_event_is_committed_to_the_journal()
    {
        using var data = new TempDataDirectory();
        await using var engine = CreditEngine.Start(data.Options());
        await engine.SubmitAsync(Open("a"));
        for (int i = 0; i < 50; i++)
        {
            Reply reply = await engine.SubmitAsync(Command.Authorize($"auth-{i}", "a", 10, "USD"));
            // The reader sees committed records only: the replied event must already be among them.
            List<LedgerEvent> committed = JournalEvents.ReadAll(engine.Journal);
            Assert.Contains(committed, e => e.Sequence == reply.Sequence && e.RequestId == $"auth-{i}");
        }
    }

    [Fact]
    public async Task A_second_engine_on_the_same_data_directory_refuses_to_start_until_the_first_stops()
    {
        using var data = new TempDataDirectory();
        Reply opened;
        await using (var engine = CreditEngine.Start(data.Options()))
        {
            opened = await engine.SubmitAsync(Open("a"));
            var refused = Assert.Throws<DataDirectoryLockedException>(() => CreditEngine.Start(data.Options()));
            Assert.Contains(data.Path, refused.Message);
            Assert.Contains("in use by another engine", refused.Message);
            // The refused start touched nothing: the running engine carries on at the next sequence.
            Assert.Equal(opened.Sequence + 1, (await engine.SubmitAsync(Command.Repay("after-refusal", "a", 1))).Sequence);
        }

        await using var restarted = CreditEngine.Start(data.Options());
        Assert.Equal(opened.Sequence + 2, (await restarted.SubmitAsync(Command.Repay("after-restart", "a", 1))).Sequence);
    }

    [Fact]
    public async Task Malformed_commands_are_refused_naming_the_field_and_change_nothing()
    {
        using var data = new TempDataDirectory();
        await using var engine = CreditEngine.Start(data.Options());
        Reply opened = await engine.SubmitAsync(Open("a"));
        var error = await Assert.ThrowsAsync<InvalidCommandException>(async () => await engine.SubmitAsync(Command.Authorize("bad", "a", 0, "USD")));
        Assert.Equal("amount", error.Error.Field);
        var batchError = await Assert.ThrowsAsync<InvalidCommandException>(async () =>
            await engine.SubmitBatchAsync(new[] { Command.Repay("ok", "a", 5), Command.Repay("", "a", 5) }, new Reply[2]));
        Assert.Equal("commands[1].request_id", batchError.Error.Field);
        // Nothing of the refused batch was journaled: the next command takes the very next sequence.
        Reply next = await engine.SubmitAsync(Command.Repay("after", "a", 1));
        Assert.Equal(opened.Sequence + 1, next.Sequence);
    }

    [Fact]
    public async Task A_full_ring_refuses_at_once_with_engine_unavailable_and_journals_nothing_for_refused_commands()
    {
        using var data = new TempDataDirectory();
        await using var engine = CreditEngine.Start(data.Options(o => o.RingSize = 64));
        await engine.SubmitAsync(Open("a", 1_000_000));
        var commands = Enumerable.Range(0, 5_000).Select(i => Command.Authorize($"flood-{i}", "a", 1, "USD")).ToArray();
        var replies = new Reply[commands.Length];
        await engine.SubmitBatchAsync(commands, replies);
        int refused = replies.Count(r => r.Status == Status.EngineUnavailable);
        int approved = replies.Count(r => r.Status == Status.Ok);
        Assert.True(refused > 0, "a 5,000-command batch into a 64-slot ring must be partly refused");
        Assert.Equal(commands.Length, refused + approved);
        await engine.StopAsync();
        List<LedgerEvent> events = JournalEventsAfterStop(data);
        Assert.Equal(1 + approved, events.Count);
    }

    [Fact]
    public async Task Waiting_for_capacity_gets_every_command_of_a_large_batch_through()
    {
        using var data = new TempDataDirectory();
        await using var engine = CreditEngine.Start(data.Options(o => o.RingSize = 64));
        await engine.SubmitAsync(Open("a", 1_000_000));
        var commands = Enumerable.Range(0, 5_000).Select(i => Command.Authorize($"wait-{i}", "a", 1, "USD")).ToArray();
        var replies = new Reply[commands.Length];
        await engine.SubmitBatchAsync(commands, replies, waitForCapacity: true);
        Assert.All(replies, r => Assert.Equal(Status.Ok, r.Status));
        Assert.Equal(Enumerable.Range(2, 5_000).Select(i => (long)i), replies.Select(r => r.Sequence));
    }

    [Fact]
    public async Task Idempotent_replies_survive_a_restart_with_replayed_set()
    {
        using var data = new TempDataDirectory();
        Reply original, declined;
        await using (var engine = CreditEngine.Start(data.Options()))
        {
            await engine.SubmitAsync(Open("a", 100));
            original = await engine.SubmitAsync(Command.Authorize("r1", "a", 60, "USD"));
            declined = await engine.SubmitAsync(Command.Authorize("r2", "a", 60, "USD"));
            Assert.Equal(Status.InsufficientCredit, declined.Status);
        }
        await using (var engine = CreditEngine.Start(data.Options()))
        {
            Reply again = await engine.SubmitAsync(Command.Authorize("r1", "a", 60, "USD"));
            Assert.True(again.Replayed);
            Assert.Equal(original.Sequence, again.Sequence);
            Assert.Equal(original.AvailableMinor, again.AvailableMinor);
            Reply declinedAgain = await engine.SubmitAsync(Command.Authorize("r2", "a", 60, "USD"));
            Assert.True(declinedAgain.Replayed);
            Assert.Equal(Status.InsufficientCredit, declinedAgain.Status);
            Reply reused = await engine.SubmitAsync(Command.Authorize("r1", "a", 61, "USD"));
            Assert.Equal(Status.RequestIdReused, reused.Status);
            Assert.Equal("94", reused.ResponseCode);
        }
    }

    [Fact]
    public async Task Graceful_stop_snapshots_and_restart_recovers_identical_state_without_replay()
    {
        using var data = new TempDataDirectory();
        UInt128 before;
        await using (var engine = CreditEngine.Start(data.Options()))
        {
            await RunMixedWorkload(engine, 2_000);
            await engine.StopAsync();
            before = engine.LedgerWhenStopped.ComputeDigest();
        }
        await using (var engine = CreditEngine.Start(data.Options()))
        {
            Assert.Equal(0, engine.Recovery.ReplayedEvents);
            await engine.StopAsync();
            Assert.Equal(before, engine.LedgerWhenStopped.ComputeDigest());
        }
    }

    [Fact]
    public async Task Snapshot_plus_replay_rebuilds_the_same_state_as_replaying_the_whole_log()
    {
        using var data = new TempDataDirectory();
        UInt128 before;
        Action<EngineOptions> snapshotOften = o => { o.SnapshotEveryEvents = 500; o.SnapshotOnShutdown = false; };
        await using (var engine = CreditEngine.Start(data.Options(snapshotOften)))
        {
            await RunMixedWorkload(engine, 3_000);
            // Fewer than SnapshotEveryEvents commands after the last possible snapshot: these must be replayed.
            for (int i = 0; i < 20; i++) await engine.SubmitAsync(Command.Repay($"tail-{i}", "acct-1", 1));
            await engine.StopAsync();
            before = engine.LedgerWhenStopped.ComputeDigest();
        }
        await using (var engine = CreditEngine.Start(data.Options(o => o.SnapshotOnShutdown = false)))
        {
            Assert.True(engine.Recovery.SnapshotSequence > 0, "a snapshot was taken during the run");
            Assert.True(engine.Recovery.ReplayedEvents > 0, "events after the snapshot were replayed");
            await engine.StopAsync();
            Assert.Equal(before, engine.LedgerWhenStopped.ComputeDigest());
        }
        Directory.Delete(data.SnapshotDirectory, recursive: true);
        await using (var engine = CreditEngine.Start(data.Options(o => o.SnapshotOnShutdown = false)))
        {
            Assert.Equal(0, engine.Recovery.SnapshotSequence);
            await engine.StopAsync();
            Assert.Equal(before, engine.LedgerWhenStopped.ComputeDigest());
        }
    }

    [Fact]
    public async Task Events_are_dense_and_each_carries_the_reply_it_produced()
    {
        using var data = new TempDataDirectory();
        var replies = new List<(string RequestId, Reply Reply)>();
        await using (var engine = CreditEngine.Start(data.Options()))
        {
            await engine.SubmitAsync(Open("a", 1_000));
            for (int i = 0; i < 200; i++)
            {
                Command command = i % 3 == 0 ? Command.Repay($"x-{i}", "a", 7) : Command.Authorize($"x-{i}", "a", 13, "USD");
                replies.Add((command.RequestId, await engine.SubmitAsync(command)));
            }
        }
        List<LedgerEvent> events = JournalEventsAfterStop(data);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
        foreach ((string requestId, Reply reply) in replies)
        {
            LedgerEvent recorded = Assert.Single(events, e => e.RequestId == requestId);
            Assert.Equal(reply.Sequence, recorded.Sequence);
            Assert.Equal(reply.Status, recorded.Status);
            Assert.Equal(reply.AvailableMinor, recorded.AvailableMinor);
        }
    }

    [Fact]
    public async Task An_open_hold_is_released_by_the_engine_itself_once_it_expires()
    {
        using var data = new TempDataDirectory();
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000));
        await using var engine = CreditEngine.Start(data.Options(o => o.TickIntervalMs = 20), clock);
        await engine.SubmitAsync(Open("a", 1_000));
        Reply authorized = await engine.SubmitAsync(Command.Authorize("hold", "a", 400, "USD", expiresInSeconds: 5));
        Assert.Equal(600, authorized.AvailableMinor);
        clock.Advance(TimeSpan.FromSeconds(6));
        // No command is sent: the engine's own tick must expire the hold. Wait (bounded) for the event.
        LedgerEvent expired = await WaitForEvent(engine, e => e.Type == EventType.Expired, TimeSpan.FromSeconds(10));
        Assert.Equal("hold", expired.AuthorizationId);
        Assert.Equal(0, expired.HeldMinor);
        Assert.Equal(1_000, expired.AvailableMinor);
        Reply late = await engine.SubmitAsync(Command.Capture("late-capture", "hold", 400, final: true));
        Assert.Equal(Status.Ok, late.Status);
        Assert.Equal(400, late.PostedMinor);
    }

    [Fact]
    public async Task Concurrent_submitters_all_get_replies_and_the_log_has_each_command_once()
    {
        using var data = new TempDataDirectory();
        const int threads = 4, perThread = 2_000;
        await using (var engine = CreditEngine.Start(data.Options(o => o.RingSize = 256)))
        {
            await engine.SubmitAsync(Open("a", long.MaxValue / 4));
            await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(async () =>
            {
                for (int i = 0; i < perThread; i++)
                {
                    Reply reply = await engine.SubmitAsync(Command.Authorize($"t{t}-{i}", "a", 1, "USD"), waitForCapacity: true);
                    Assert.Equal(Status.Ok, reply.Status);
                }
            })));
        }
        List<LedgerEvent> events = JournalEventsAfterStop(data);
        Assert.Equal(1 + threads * perThread, events.Count);
        Assert.Equal(threads * perThread, events.Select(e => e.RequestId).Where(id => id.StartsWith('t')).Distinct().Count());
    }

    internal static async Task RunMixedWorkload(CreditEngine engine, int count)
    {
        for (int a = 0; a < 20; a++) await engine.SubmitAsync(Open($"acct-{a}", 50_000));
        var commands = new Command[count];
        for (int n = 0; n < count; n++)
        {
            string account = $"acct-{n % 20}";
            commands[n] = (n % 6) switch
            {
                3 => Command.Capture($"m-{n}", $"m-{n - 1}", 100, final: n % 4 == 0),
                4 => Command.Void($"m-{n}", $"m-{n - 2}"),
                5 => Command.Repay($"m-{n}", account, 150),
                _ => Command.Authorize($"m-{n}", account, 200 + n % 50, "USD"),
            };
        }
        await engine.SubmitBatchAsync(commands, new Reply[count], waitForCapacity: true);
    }

    private static List<LedgerEvent> JournalEventsAfterStop(TempDataDirectory data)
    {
        using EventJournal journal = EventJournal.Open(new JournalOptions { DirectoryPath = data.JournalDirectory });
        return JournalEvents.ReadAll(journal);
    }

    private static async Task<LedgerEvent> WaitForEvent(CreditEngine engine, Func<LedgerEvent, bool> match, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            LedgerEvent? found = JournalEvents.ReadAll(engine.Journal).Cast<LedgerEvent?>().FirstOrDefault(e => match(e!.Value));
            if (found is { } hit) return hit;
            await engine.Journal.WaitForCommitAsync(engine.Journal.CommittedUntilAddress + 1, cancel.Token);
        }
    }
}
