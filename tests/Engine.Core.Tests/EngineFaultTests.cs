using Engine.Testing;
using Engine.Core;
using Engine.Domain;
using Engine.Journal;
using Engine.Ring;

namespace Engine.Core.Tests;

/// <summary>Faults stop the engine cleanly: nothing undurable is answered as done, every waiter is answered once.</summary>
public sealed class EngineFaultTests
{
    private static readonly TimeSpan FaultWait = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(StorageFaults.EIO)]
    [InlineData(StorageFaults.ENOSPC)]
    public async Task A_failed_commit_answers_nothing_as_done_and_the_engine_fail_stops(int errno)
    {
        using var data = new TempDataDirectory();
        var faults = new StorageFaults();
        Command open = Command.OpenAccount("open", "a", "c", "USD", 1_000);
        Command failed = Command.Repay("repay-during-fault", "a", 5);
        var log = new ListLogger();
        await using (var engine = CreditEngine.Start(data.Options(o => { o.StorageFaults = faults; o.SnapshotOnShutdown = false; }), logger: log))
        {
            Assert.Equal(Status.Ok, (await engine.SubmitAsync(open)).Status);
            faults.FailCommits(errno);

            Reply reply = await engine.SubmitAsync(failed).AsTask().WaitAsync(FaultWait);
            Assert.Equal(Status.EngineUnavailable, reply.Status);
            Exception cause = await engine.Faulted.WaitAsync(FaultWait);
            Assert.Equal(errno, Assert.IsType<IOException>(cause).InnerException?.HResult);
            Assert.False(engine.IsAccepting);
            Assert.Equal(Status.EngineUnavailable, (await engine.SubmitAsync(Command.Repay("after-fault", "a", 1))).Status);
            Assert.Contains(log.Entries, l => l.Level == LogLevel.Critical && l.Message.Contains(StorageFaults.Name(errno), StringComparison.Ordinal));
        }

        // The command whose commit failed was never durable: after a restart it is new, not a replay.
        await using (var restarted = CreditEngine.Start(data.Options()))
        {
            Assert.Equal(1, restarted.Recovery.LastSequence);
            Assert.True((await restarted.SubmitAsync(open)).Replayed);
            Reply retried = await restarted.SubmitAsync(failed);
            Assert.Equal(Status.Ok, retried.Status);
            Assert.False(retried.Replayed);
        }
    }

    [Fact]
    public async Task A_decide_stage_exception_answers_unavailable_commits_nothing_more_and_fail_stops()
    {
        using var data = new TempDataDirectory();
        var faults = new StorageFaults();
        Command failed = Command.Repay("repay-during-fault", "a", 5);
        await using (var engine = CreditEngine.Start(data.Options(o => { o.StorageFaults = faults; o.SnapshotOnShutdown = false; })))
        {
            Assert.Equal(Status.Ok, (await engine.SubmitAsync(Command.OpenAccount("open", "a", "c", "USD", 1_000))).Status);
            faults.FailAppends();

            Reply reply = await engine.SubmitAsync(failed).AsTask().WaitAsync(FaultWait);
            Assert.Equal(Status.EngineUnavailable, reply.Status);
            Assert.IsType<InvalidOperationException>(await engine.Faulted.WaitAsync(FaultWait));
        }
        await using (var restarted = CreditEngine.Start(data.Options()))
        {
            Assert.Equal(1, restarted.Recovery.LastSequence);
            Assert.False((await restarted.SubmitAsync(failed)).Replayed);
        }
    }

    [Fact]
    public async Task A_failed_snapshot_write_is_logged_and_retried_while_the_engine_keeps_serving()
    {
        using var data = new TempDataDirectory();
        var faults = new StorageFaults();
        faults.FailSnapshots(StorageFaults.ENOSPC);
        var log = new ListLogger();
        await using var engine = CreditEngine.Start(data.Options(o => { o.StorageFaults = faults; o.SnapshotEveryEvents = 5; }),
            logger: log);
        Assert.Equal(Status.Ok, (await engine.SubmitAsync(Command.OpenAccount("open", "a", "c", "USD", 1_000))).Status);
        for (int i = 0; i < 10; i++) Assert.Equal(Status.Ok, (await engine.SubmitAsync(Command.Repay($"repay-{i}", "a", 1))).Status);

        Assert.True(faults.SnapshotFailures >= 1);
        Assert.Null(engine.Fault);
        Assert.Contains(log.Entries, l => l.Level == LogLevel.Warning && l.Message.StartsWith("snapshot", StringComparison.Ordinal) && l.Message.Contains("ENOSPC", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(data.SnapshotDirectory, "*.snap"));

        // The disk has room again: a later attempt (after the backoff; engine ticks keep the decide stage running) succeeds.
        faults.FailSnapshots(0);
        long deadline = Environment.TickCount64 + 30_000;
        while (Directory.GetFiles(data.SnapshotDirectory, "*.snap").Length == 0)
        {
            Assert.True(Environment.TickCount64 < deadline, "no snapshot was written after the failure cleared");
            await Task.Delay(20);
        }
        Assert.Null(engine.Fault);
        Assert.Equal(Status.Ok, (await engine.SubmitAsync(Command.Repay("after-retry", "a", 1))).Status);
    }

    [Fact]
    public async Task The_fault_drain_and_a_still_running_journal_stage_complete_every_waiter_exactly_once()
    {
        const int slots = 2048;
        var ring = new RingBuffer<CommandSlot>(slots, new BusySpinWaitStrategy());
        var responder = new Responder();
        var unavailable = new Reply { Status = Status.EngineUnavailable };
        for (int round = 0; round < 10; round++)
        {
            var batches = new ReplyBatch[slots];
            for (int i = 0; i < slots; i++)
            {
                batches[i] = ReplyBatch.Rent(1);
                ref CommandSlot slot = ref ring[i];
                slot.Waiter = batches[i];
                slot.WaiterIndex = 0;
                slot.Reply = new Reply { Status = Status.Ok };
            }
            // Lockstep: each thread takes slot s only once the other has reached it too, so the two race for every slot.
            long respondAt = -1, drainAt = -1;
            // A thread that throws releases the other (long.MaxValue), so a failure ends the test instead of a spin.
            var respond = Task.Run(() =>
            {
                try
                {
                    for (long s = 0; s < slots; s++)
                    {
                        Volatile.Write(ref respondAt, s);
                        SpinWait.SpinUntil(() => Volatile.Read(ref drainAt) >= s);
                        responder.Answer(ref ring[s]);
                        if (s == slots - 1) responder.Dispatch();
                    }
                }
                finally
                {
                    Volatile.Write(ref respondAt, long.MaxValue);
                }
            });
            var drain = Task.Run(() =>
            {
                try
                {
                    for (long s = 0; s < slots; s++)
                    {
                        Volatile.Write(ref drainAt, s);
                        SpinWait.SpinUntil(() => Volatile.Read(ref respondAt) >= s);
                        CreditEngine.ReleaseUnanswered(ring, s, s, unavailable);
                    }
                }
                finally
                {
                    Volatile.Write(ref drainAt, long.MaxValue);
                }
            });
            // A second completion of any batch would throw (ReplyBatch counts completions).
            await Task.WhenAll(respond, drain).WaitAsync(TimeSpan.FromSeconds(30));
            foreach (ReplyBatch batch in batches)
            {
                // Released on the thread pool once filled: every batch completes, each once.
                await batch.Task.AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                Assert.Contains(batch.Replies[0].Status, new[] { Status.Ok, Status.EngineUnavailable });
            }
        }
    }
}
