using Engine.Core;
using Engine.Domain;

namespace Engine.Core.Tests;

/// <summary>
/// The journal stage fills the replies of a committed batch and hands the callers it completed to
/// <see cref="ReplyRelease"/>: each is released exactly once, with its own replies, and never on the journal thread.
/// </summary>
public sealed class ReplyReleaseTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(ReplyRelease.PerWorkItemMin * 3 + 5)]
    [InlineData(500)]
    public async Task Every_caller_a_commit_completed_is_released_once_with_its_replies_and_never_on_the_dispatching_thread(int callers)
    {
        var batches = new ReplyBatch[callers];
        var awaiting = new Task<(int Count, int Thread, long FirstSequence)>[callers];
        for (int i = 0; i < callers; i++)
        {
            batches[i] = ReplyBatch.Rent(2);
            awaiting[i] = AwaitOnReleasingThread(batches[i]);
        }
        var release = new ReplyRelease();
        int dispatchingThread = 0;
        int lastFills = 0;
        // A thread of its own stands for the journal thread: nothing of a caller may run on it.
        var journal = new Thread(() =>
        {
            dispatchingThread = Environment.CurrentManagedThreadId;
            for (int i = 0; i < callers; i++)
            {
                bool last = batches[i].Fill(0, new Reply { Status = Status.Ok, Sequence = 2L * i });
                if (batches[i].Fill(1, new Reply { Status = Status.Ok, Sequence = 2L * i + 1 }) && !last) lastFills++;
                release.Add(batches[i]);
            }
            release.Dispatch();
        });
        journal.Start();
        journal.Join();
        // Only the second of each batch's two cells completes it.
        Assert.Equal(callers, lastFills);

        (int Count, int Thread, long FirstSequence)[] results = await Task.WhenAll(awaiting).WaitAsync(Wait);
        for (int i = 0; i < callers; i++)
        {
            Assert.Equal(2, results[i].Count);
            Assert.Equal(2L * i, results[i].FirstSequence);
            Assert.NotEqual(dispatchingThread, results[i].Thread);
        }
    }

    [Fact]
    public void A_reply_filled_more_often_than_the_batch_has_commands_is_refused()
    {
        ReplyBatch batch = ReplyBatch.Rent(1);
        Assert.True(batch.Fill(0, new Reply { Status = Status.Ok }));
        Assert.Throws<InvalidOperationException>(() => batch.Fill(0, new Reply { Status = Status.Ok }));
    }

    [Fact]
    public async Task Dispatch_with_nothing_filled_releases_nothing_and_a_later_dispatch_releases_only_what_came_after()
    {
        var release = new ReplyRelease();
        release.Dispatch();
        ReplyBatch batch = ReplyBatch.Rent(1);
        ValueTask<int> task = batch.Task;
        Assert.False(task.IsCompleted);
        Assert.True(batch.Fill(0, new Reply { Status = Status.Ok, Sequence = 9 }));
        Assert.False(task.IsCompleted); // filled, not yet released
        release.Add(batch);
        release.Dispatch();
        Assert.Equal(1, await task.AsTask().WaitAsync(Wait));
        Assert.Equal(9, batch.Replies[0].Sequence);
    }

    /// <summary>Awaits the batch (not yet completed, so the continuation runs where it is released) and says where it ran.</summary>
    private static async Task<(int Count, int Thread, long FirstSequence)> AwaitOnReleasingThread(ReplyBatch batch)
    {
        int count = await batch.Task;
        return (count, Environment.CurrentManagedThreadId, batch.Replies[0].Sequence);
    }
}
