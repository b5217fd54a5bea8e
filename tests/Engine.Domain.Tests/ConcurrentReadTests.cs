namespace Engine.Domain.Tests;

/// <summary>
/// Reading a ledger writes nothing (issue 9): a read model answers queries from many threads under one shared read
/// lock, so every read the queries use must be safe to run concurrently while no one applies events.
/// </summary>
public sealed class ConcurrentReadTests
{
    [Fact]
    public void An_authorization_looked_up_is_a_copy_that_later_commands_do_not_change()
    {
        // A copy cannot have been cached anywhere: this is what makes a lookup write nothing. The view this type
        // used to be was live (and cached per slot), so it showed the capture below.
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Authorize("a1", "acct-1", 300);
        Authorization before = h.AuthorizationOf("a1");

        h.Execute(Command.Capture("c1", "a1", 300, final: true));

        Assert.Equal((AuthorizationState.Open, 300L, 0L), (before.State, before.HeldMinor, before.CapturedMinor));
        Authorization after = h.AuthorizationOf("a1");
        Assert.NotSame(before, after);
        Assert.Equal((AuthorizationState.Closed, 0L, 300L), (after.State, after.HeldMinor, after.CapturedMinor));
    }

    [Fact]
    public void Concurrent_authorization_lookups_without_a_writer_all_succeed_and_agree()
    {
        // The race issue 9 reproduced: first lookups of the same authorizations from several threads at once. With the
        // old per-slot view cache they collided on Dictionary.Add ("an item with the same key has already been added").
        const int authorizations = 20_000, threads = 8;
        var h = new LedgerHarness(new LedgerOptions { OpenAuthorizationsPerAccountMax = authorizations });
        h.Open("acct-1", 1_000_000_000_000);
        for (int i = 0; i < authorizations; i++) h.Authorize($"a{i}", "acct-1", 1 + i);
        string[] ids = [.. Enumerable.Range(0, authorizations).Select(i => $"a{i}")];
        using var start = new Barrier(threads);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();

        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, thread =>
        {
            start.SignalAndWait();
            // Each thread walks the ids from a different start so first lookups of one slot overlap across threads.
            for (int k = 0; k < authorizations; k++)
            {
                int i = (k + thread * 7) % authorizations;
                try
                {
                    if (!h.Ledger.TryGetAuthorization(ids[i], out Authorization? authorization)) failures.Enqueue($"{ids[i]} not found");
                    else if (authorization.AuthorizedMinor != 1 + i || authorization.Id != ids[i]) failures.Enqueue($"{ids[i]} read as {authorization.Id} {authorization.AuthorizedMinor}");
                }
                catch (Exception e)
                {
                    failures.Enqueue($"{ids[i]}: {e.GetType().Name}: {e.Message}");
                }
            }
        });

        Assert.True(failures.IsEmpty, string.Join("; ", failures.Take(5)));
        Assert.Equal(authorizations, h.Ledger.Authorizations.Count());
        h.Ledger.CheckInvariants();
    }
}
