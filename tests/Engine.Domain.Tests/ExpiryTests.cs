namespace Engine.Domain.Tests;

/// <summary>docs/SPEC.md "Expiry": the engine releases due holds itself, as EXPIRED events; engine time is monotonic.</summary>
public sealed class ExpiryTests
{
    [Fact]
    public void Holds_within_the_expected_authorizations_never_grow_the_expiry_heap_on_the_decide_thread()
    {
        // The heap of open holds is sized from the hint like the authorization slots: 50,000 holds on a ledger sized for
        // them allocate nothing, where a heap doubling from 1,024 entries allocated ~3 MB (24 bytes per entry).
        const int holds = 50_000;
        var ledger = new Ledger(new LedgerOptions { ExpectedAccounts = 16, ExpectedAuthorizations = holds + 1, ExpectedRequestIds = holds * 2 });
        var sink = new NullSink();
        // Ten accounts: an account holds at most 10,000 open authorizations.
        for (int a = 0; a < 10; a++)
            Assert.Equal(Status.Ok, ledger.Execute(Command.OpenAccount($"open-{a}", $"acct-{a}", $"cust-{a}", "USD", 1_000_000_000), LedgerHarness.T0, sink).Status);
        Command[] commands = [.. Enumerable.Range(0, holds + 1).Select(i => Command.Authorize($"auth-{i}", $"acct-{i % 10}", 100, "USD"))];
        Assert.Equal(Status.Ok, ledger.Execute(commands[0], LedgerHarness.T0, sink).Status); // every path of it has run once

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i <= holds; i++) ledger.Execute(commands[i], LedgerHarness.T0, sink);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(holds + 1, sink.Authorized);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Tick_at_the_expiry_releases_the_hold_as_one_Expired_event()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Authorize("a1", "acct-1", 300, expiresInSeconds: 60);
        h.Now += 60_000;

        var (reply, events) = h.Run(Command.Tick());

        LedgerEvent e = Assert.Single(events);
        Assert.Equal(EventType.Expired, e.Type);
        Assert.Equal(CommandType.Tick, e.Command);
        Assert.Equal(Status.Ok, e.Status);
        Assert.Equal("", e.RequestId);
        Assert.Equal("acct-1", e.AccountId);
        Assert.Equal("a1", e.AuthorizationId);
        Assert.Equal(300, e.AmountMinor);
        Assert.Equal(300, e.HoldReleasedMinor);
        Assert.True(e.AuthorizationClosed);
        Assert.Equal(h.Now, e.TimestampUnixMs);
        Assert.Equal((1_000L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal(Status.Ok, reply.Status);
        Assert.Equal(e.Sequence, reply.Sequence);
        Assert.Equal(AuthorizationState.Expired, h.AuthorizationOf("a1").State);
        Assert.Equal(0, h.AccountOf("acct-1").OpenAuthorizations);
        h.AssertBalances("acct-1", 1_000, 0, 0);
        h.Ledger.CheckInvariants();

        Assert.Empty(h.Run(Command.Tick()).Events);
    }

    [Fact]
    public void Tick_before_the_expiry_releases_nothing()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Authorize("a1", "acct-1", 300, expiresInSeconds: 60);
        h.Now += 59_999;
        var (reply, events) = h.Run(Command.Tick());
        Assert.Empty(events);
        Assert.Equal(h.Ledger.LastSequence, reply.Sequence);
        h.AssertBalances("acct-1", 700, 300, 0);
    }

    [Fact]
    public void Hold_expiry_defaults_to_the_configured_lifetime()
    {
        var h = new LedgerHarness(new LedgerOptions { DefaultHoldExpirySeconds = 30 });
        h.Open("acct-1", 1_000);
        LedgerEvent e = h.Single(Command.Authorize("a1", "acct-1", 300, "USD"));
        Assert.Equal(h.Now + 30_000, e.ExpiresAtUnixMs);
        Assert.Equal(h.Now + 30_000, h.AuthorizationOf("a1").ExpiresAtUnixMs);
        h.Now += 29_999;
        Assert.Empty(h.Run(Command.Tick()).Events);
        h.Now += 1;
        Assert.Single(h.Run(Command.Tick()).Events);
    }

    [Fact]
    public void Default_hold_expiry_is_seven_days()
    {
        Assert.Equal(7 * 24 * 3600, new LedgerOptions().DefaultHoldExpirySeconds);
    }

    [Fact]
    public void Per_request_expires_in_seconds_overrides_the_default()
    {
        var h = new LedgerHarness(new LedgerOptions { DefaultHoldExpirySeconds = 30 });
        h.Open("acct-1", 1_000);
        LedgerEvent e = h.Single(Command.Authorize("a1", "acct-1", 300, "USD", expiresInSeconds: 90));
        Assert.Equal(h.Now + 90_000, e.ExpiresAtUnixMs);
    }

    [Fact]
    public void Due_holds_expire_oldest_expiry_first_and_ties_in_creation_order()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 10_000);
        h.Authorize("late", "acct-1", 1, expiresInSeconds: 30);
        h.Authorize("tie-1", "acct-1", 2, expiresInSeconds: 20);
        h.Authorize("early", "acct-1", 3, expiresInSeconds: 10);
        h.Authorize("tie-2", "acct-1", 4, expiresInSeconds: 20);
        h.Authorize("not-due", "acct-1", 5, expiresInSeconds: 31);
        h.Now += 30_000;

        var (_, events) = h.Run(Command.Tick());

        Assert.Equal(["early", "tie-1", "tie-2", "late"], events.Select(e => e.AuthorizationId));
        Assert.All(events, e => Assert.Equal(EventType.Expired, e.Type));
        Assert.Equal([9_988L, 9_990, 9_994, 9_995], events.Select(e => e.AvailableMinor));
        h.AssertBalances("acct-1", 9_995, 5, 0);
    }

    [Fact]
    public void A_tick_expires_at_most_MaxExpirationsPerTick_and_the_rest_on_following_ticks()
    {
        var h = new LedgerHarness(new LedgerOptions { ExpirationsPerTickMax = 2 });
        h.Open("acct-1", 10_000);
        for (int i = 0; i < 5; i++) h.Authorize($"a{i}", "acct-1", 10, expiresInSeconds: 10 + i);
        h.Now += 60_000;

        Assert.Equal(["a0", "a1"], h.Run(Command.Tick()).Events.Select(e => e.AuthorizationId));
        Assert.Equal(3, h.Ledger.OpenAuthorizationCount);
        h.AssertBalances("acct-1", 9_970, 30, 0);
        Assert.Equal(["a2", "a3"], h.Run(Command.Tick()).Events.Select(e => e.AuthorizationId));
        Assert.Equal(["a4"], h.Run(Command.Tick()).Events.Select(e => e.AuthorizationId));
        Assert.Empty(h.Run(Command.Tick()).Events);
        h.AssertBalances("acct-1", 10_000, 0, 0);
    }

    [Fact]
    public void Captured_and_voided_holds_never_expire()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 10_000);
        h.Authorize("captured", "acct-1", 100, expiresInSeconds: 10);
        h.Authorize("voided", "acct-1", 100, expiresInSeconds: 10);
        h.Execute(Command.Capture(h.NextRequestId(), "captured", 100, final: true));
        h.Execute(Command.Void(h.NextRequestId(), "voided"));
        h.Now += 60_000;
        Assert.Empty(h.Run(Command.Tick()).Events);
        Assert.Equal(AuthorizationState.Closed, h.AuthorizationOf("captured").State);
        Assert.Equal(AuthorizationState.Voided, h.AuthorizationOf("voided").State);
    }

    [Fact]
    public void Expiry_of_a_partially_captured_hold_releases_the_rest_and_late_captures_still_post()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 10_000);
        h.Authorize("a1", "acct-1", 300, expiresInSeconds: 10);
        h.Execute(Command.Capture(h.NextRequestId(), "a1", 100, final: false));
        h.Now += 10_000;

        LedgerEvent e = Assert.Single(h.Run(Command.Tick()).Events);

        Assert.Equal(200, e.HoldReleasedMinor);
        Assert.Equal(AuthorizationState.Expired, h.AuthorizationOf("a1").State);
        h.AssertBalances("acct-1", 9_900, 0, 100);
        Assert.Equal(Status.Ok, h.Execute(Command.Capture(h.NextRequestId(), "a1", 200, final: false)).Status);
        h.AssertBalances("acct-1", 9_700, 0, 300);
    }

    [Fact]
    public void A_due_hold_not_yet_expired_by_a_tick_is_still_open_and_capturable()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 10_000);
        h.Authorize("a1", "acct-1", 300, expiresInSeconds: 10);
        h.Now += 20_000;
        LedgerEvent e = h.Single(Command.Capture("c1", "a1", 100, final: false));
        Assert.Equal(100, e.HoldReleasedMinor);
        Assert.Equal(AuthorizationState.Open, h.AuthorizationOf("a1").State);
        Assert.Equal(200, Assert.Single(h.Run(Command.Tick()).Events).HoldReleasedMinor);
    }

    [Fact]
    public void Engine_time_never_goes_backwards_when_the_clock_does()
    {
        var h = new LedgerHarness(new LedgerOptions { DefaultHoldExpirySeconds = 10 });
        h.Open("acct-1", 1_000);
        long engineNow = h.Now;
        h.Execute(Command.SetTemporaryLimit(h.NextRequestId(), "acct-1", 500, engineNow + 1));
        h.Now = engineNow + 1;
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));

        h.Now = engineNow - 3_600_000; // the clock steps back an hour
        LedgerEvent e = h.Single(Command.Authorize("a1", "acct-1", 100, "USD"));

        Assert.Equal(engineNow + 1, e.TimestampUnixMs);
        Assert.Equal(engineNow + 1 + 10_000, e.ExpiresAtUnixMs);
        // The temporary limit expired at engineNow + 1 and does not come back.
        Assert.Equal(1_000 + 1 - 100, e.AvailableMinor);
        Assert.Equal(engineNow + 1, h.Ledger.LastTimestampUnixMs);
    }

    [Fact]
    public void Events_record_engine_time_and_dense_sequences()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Now += 5;
        h.Authorize("a1", "acct-1", 1, expiresInSeconds: 1);
        h.Execute(Command.Capture("c1", "nope", 1, final: false));
        h.Now += 2_000;
        h.Execute(Command.Tick());
        h.Execute(Command.Repay("rp", "nope", 1));

        Assert.Equal([1L, 2, 3, 4, 5], h.Sink.Events.Select(e => e.Sequence));
        Assert.Equal([LedgerHarness.T0, LedgerHarness.T0 + 5, LedgerHarness.T0 + 5, LedgerHarness.T0 + 2_005, LedgerHarness.T0 + 2_005],
            h.Sink.Events.Select(e => e.TimestampUnixMs));
        Assert.Equal([EventType.AccountOpened, EventType.Authorized, EventType.Declined, EventType.Expired, EventType.Declined],
            h.Sink.Events.Select(e => e.Type));
    }
}
