namespace Engine.Domain.Tests;

/// <summary>docs/SPEC.md "Events": every command outcome, declines included, is exactly one event carrying the balances after it.</summary>
public sealed class EventTests
{
    [Fact]
    public void Every_command_outcome_is_exactly_one_event_approved_or_declined()
    {
        var h = new LedgerHarness();
        Command[] commands =
        [
            Command.OpenAccount("r1", "acct-1", "c", "USD", 1_000),
            Command.OpenAccount("r2", "acct-1", "c", "USD", 1_000),
            Command.ChangeLimit("r3", "acct-1", 2_000),
            Command.SetTemporaryLimit("r4", "acct-1", 100, h.Now + 1_000),
            Command.SetSpendingControls("r5", "acct-1", new SpendingControls { BlockedMccs = [1] }),
            Command.Authorize("a1", "acct-1", 500, "USD"),
            Command.Authorize("a2", "acct-1", 500, "USD", mcc: 1),
            Command.IncrementAuthorization("r6", "a1", 10),
            Command.Capture("r7", "a1", 100, final: false),
            Command.Void("r8", "a1", 10),
            Command.Capture("r9", "a2", 100, final: false),
            Command.ForcePost("r10", "acct-1", 10),
            Command.Refund("r11", "acct-1", 10, "a1"),
            Command.Repay("r12", "acct-1", 100),
            Command.Freeze("r13", "acct-1"),
            Command.Unfreeze("r14", "acct-1"),
            Command.CloseAccount("r15", "acct-1"),
        ];
        EventType[] expected =
        [
            EventType.AccountOpened, EventType.Declined, EventType.LimitChanged, EventType.TemporaryLimitSet, EventType.SpendingControlsSet,
            EventType.Authorized, EventType.Declined, EventType.AuthorizationIncreased, EventType.Captured, EventType.Voided, EventType.Declined,
            EventType.ForcePosted, EventType.Refunded, EventType.Repaid, EventType.AccountFrozen, EventType.AccountUnfrozen, EventType.Declined,
        ];
        for (int i = 0; i < commands.Length; i++)
        {
            LedgerEvent e = h.Single(commands[i]);
            Assert.Equal(expected[i], e.Type);
            Assert.Equal(commands[i].Type, e.Command);
            Assert.Equal(commands[i].RequestId, e.RequestId);
            Assert.Equal(i + 1, e.Sequence);
            Assert.Equal(Fingerprints.Payload(commands[i]), e.PayloadFingerprint);
            Assert.Equal(e.Type == EventType.Declined, e.Status != Status.Ok);
            h.Ledger.CheckInvariants();
        }
    }

    [Fact]
    public void Declined_events_record_the_command_the_status_and_what_was_asked_but_nothing_an_approval_sets()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 100);

        LedgerEvent e = h.AssertDeclined(Command.Authorize("a1", "acct-1", 500, "USD", merchantId: "m", mcc: 5411, expiresInSeconds: 60), Status.InsufficientCredit);

        Assert.Equal(CommandType.Authorize, e.Command);
        Assert.Equal("a1", e.RequestId);
        Assert.Equal("acct-1", e.AccountId);
        Assert.Equal(500, e.AmountMinor);
        Assert.Equal("m", e.MerchantId);
        Assert.Equal(5411, e.Mcc);
        Assert.Null(e.AuthorizationId);
        Assert.Equal(0, e.ExpiresAtUnixMs);
        Assert.Null(e.CustomerId);
        Assert.Null(e.Controls);
        Assert.Equal((100L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
    }

    [Fact]
    public void Declined_admin_events_carry_no_approval_details()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 100);
        h.Execute(Command.CloseAccount(h.NextRequestId(), "acct-1"));
        LedgerEvent controls = h.AssertDeclined(Command.SetSpendingControls("r1", "acct-1", new SpendingControls { MaxAuthorizationAmountMinor = 1 }), Status.AccountClosed);
        Assert.Null(controls.Controls);
        LedgerEvent open = h.AssertDeclined(Command.OpenAccount("r2", "acct-1", "someone", "USD", 1), Status.AccountExists);
        Assert.Null(open.CustomerId);
        LedgerEvent temporary = h.AssertDeclined(Command.SetTemporaryLimit("r3", "acct-1", 5, h.Now + 1), Status.AccountClosed);
        Assert.Equal(0, temporary.ExpiresAtUnixMs);
    }

    [Fact]
    public void Events_apply_on_another_ledger_only_in_dense_sequence()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 100);
        h.Open("acct-2", 100);
        var follower = new Ledger();
        Assert.Throws<LedgerInvariantException>(() => follower.Apply(h.Sink.Events[1]));
        follower.Apply(h.Sink.Events[0]);
        Assert.Throws<LedgerInvariantException>(() => follower.Apply(h.Sink.Events[0]));
        follower.Apply(h.Sink.Events[1]);
        Assert.Equal(h.Ledger.ComputeDigest(), follower.ComputeDigest());
    }

    [Fact]
    public void An_event_whose_recorded_balances_disagree_with_the_state_is_refused()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 100);
        h.Authorize("a1", "acct-1", 40);
        var follower = new Ledger();
        follower.Apply(h.Sink.Events[0]);
        LedgerEvent tampered = h.Sink.Events[1] with { AvailableMinor = 61 };
        Assert.Throws<LedgerInvariantException>(() => follower.Apply(tampered));
    }
}
