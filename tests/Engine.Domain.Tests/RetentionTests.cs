namespace Engine.Domain.Tests;

/// <summary>
/// Bounded memory (docs/STYLE.md "a limit on everything"): closed, voided and expired authorizations stay known for
/// late captures, linked refunds and clear statuses for a retention period, then are forgotten; open ones never are.
/// </summary>
public sealed class RetentionTests
{
    private static LedgerHarness Harness(long retentionMs = 1_000, int maxEntries = 1_000) =>
        new(new LedgerOptions { ClosedAuthorizationRetentionMs = retentionMs, ClosedAuthorizationsMax = maxEntries });

    [Fact]
    public void Closed_authorizations_stay_known_during_the_retention_period()
    {
        LedgerHarness h = Harness();
        h.Open("acct-1", 1_000);
        h.Authorize("a1", "acct-1", 100);
        h.Execute(Command.Capture(h.NextRequestId(), "a1", 100, final: true));
        h.Now += 1_000;
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));

        Assert.True(h.Ledger.TryGetAuthorization("a1", out _));
        h.AssertDeclined(Command.Capture("c-late", "a1", 1, final: false), Status.AuthorizationClosed);
        Assert.Equal(Status.Ok, h.Execute(Command.Refund(h.NextRequestId(), "acct-1", 10, "a1")).Status);
    }

    [Fact]
    public void Closed_authorizations_are_forgotten_after_the_retention_period()
    {
        LedgerHarness h = Harness();
        h.Open("acct-1", 1_000);
        h.Authorize("a1", "acct-1", 100);
        h.Execute(Command.Capture(h.NextRequestId(), "a1", 100, final: true));
        h.Now += 1_001;
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));

        Assert.False(h.Ledger.TryGetAuthorization("a1", out _));
        h.AssertDeclined(Command.Capture("c-late", "a1", 1, final: false), Status.AuthorizationNotFound);
        h.AssertDeclined(Command.Refund("rf-late", "acct-1", 10, "a1"), Status.AuthorizationNotFound);
        h.AssertBalances("acct-1", 901, 0, 99);
        h.Ledger.CheckInvariants();
    }

    [Fact]
    public void Open_authorizations_are_never_forgotten_however_old()
    {
        LedgerHarness h = Harness();
        h.Open("acct-1", 1_000);
        h.Authorize("a1", "acct-1", 100, expiresInSeconds: CommandValidator.ExpiresInSecondsMax);
        for (int i = 0; i < 10; i++)
        {
            h.Now += 3_600_000;
            h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        }
        Assert.Equal(AuthorizationState.Open, h.AuthorizationOf("a1").State);
        Assert.Equal(Status.Ok, h.Execute(Command.Capture(h.NextRequestId(), "a1", 100, final: true)).Status);
    }

    [Fact]
    public void Expired_authorizations_take_late_captures_until_the_retention_period_ends()
    {
        LedgerHarness h = Harness(retentionMs: 10_000);
        h.Open("acct-1", 1_000);
        h.Authorize("a1", "acct-1", 100, expiresInSeconds: 1);
        h.Authorize("a2", "acct-1", 100, expiresInSeconds: 1);
        h.Now += 1_000;
        h.Execute(Command.Tick());
        h.Now += 10_000;
        Assert.Equal(Status.Ok, h.Execute(Command.Capture(h.NextRequestId(), "a1", 100, final: true)).Status);
        h.Now += 1;
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        h.AssertDeclined(Command.Capture("c-too-late", "a2", 100, final: true), Status.AuthorizationNotFound);
    }

    [Fact]
    public void At_most_ClosedAuthorizationMaxEntries_closed_authorizations_are_kept()
    {
        LedgerHarness h = Harness(retentionMs: long.MaxValue, maxEntries: 2);
        h.Open("acct-1", 1_000);
        for (int i = 0; i < 5; i++)
        {
            h.Authorize($"a{i}", "acct-1", 10);
            h.Execute(Command.Void(h.NextRequestId(), $"a{i}"));
        }
        h.Authorize("open", "acct-1", 10);
        Assert.Equal(3, h.Ledger.AuthorizationCount);
        Assert.True(h.Ledger.TryGetAuthorization("a4", out _));
        Assert.True(h.Ledger.TryGetAuthorization("a3", out _));
        Assert.False(h.Ledger.TryGetAuthorization("a2", out _));
        h.AssertDeclined(Command.Capture("c", "a0", 1, final: false), Status.AuthorizationNotFound);
    }

    [Fact]
    public void Retention_gives_the_same_state_live_after_a_snapshot_and_after_replaying_the_log()
    {
        var options = new LedgerOptions { ClosedAuthorizationRetentionMs = 5_000, ClosedAuthorizationsMax = 3, IdempotencyMinEntries = 4, IdempotencyMinAgeMs = 2_000 };
        var h = new LedgerHarness(options);
        h.Open("acct-1", 100_000);
        var stream = new MemoryStream();
        Ledger? restored = null;
        var restoredSink = new CollectingSink();
        for (int i = 0; i < 60; i++)
        {
            h.Now += 700;
            Command[] step =
            [
                Command.Authorize($"a{i}", "acct-1", 10, "USD", expiresInSeconds: 3),
                i % 3 == 0 ? Command.Capture($"c{i}", $"a{i}", 10, final: true) : Command.Tick(),
                Command.Capture($"late{i}", $"a{Math.Max(0, i - 6)}", 1, final: false),
            ];
            foreach (Command command in step)
            {
                Reply live = h.Execute(command);
                if (restored is not null) Assert.Equal(live, restored.Execute(command, h.Now, restoredSink));
            }
            if (i == 20)
            {
                h.Ledger.WriteSnapshot(stream);
                stream.Position = 0;
                restored = Ledger.ReadSnapshot(stream, options);
            }
        }
        var rebuilt = new Ledger(options);
        foreach (LedgerEvent e in h.Sink.Events) rebuilt.Apply(e);
        Assert.Equal(h.Ledger.ComputeDigest(), rebuilt.ComputeDigest());
        Assert.Equal(h.Ledger.ComputeDigest(), restored!.ComputeDigest());
        Assert.True(h.Ledger.AuthorizationCount < 20);
        h.Ledger.CheckInvariants();
    }
}
