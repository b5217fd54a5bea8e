namespace Engine.Domain.Tests;

/// <summary>docs/SPEC.md Capture and Void: partial and multiple captures, over-capture, closing, late captures, reversals.</summary>
public sealed class CaptureAndVoidTests
{
    private readonly LedgerHarness _h = new();

    public CaptureAndVoidTests() => _h.Open("acct-1", 1_000);

    // ----- Capture -----

    [Fact]
    public void Capture_of_the_full_amount_posts_it_releases_the_hold_and_closes_the_authorization()
    {
        _h.Authorize("a1", "acct-1", 300);

        LedgerEvent e = _h.Single(Command.Capture("c1", "a1", 300, final: false));

        Assert.Equal(EventType.Captured, e.Type);
        Assert.Equal("a1", e.AuthorizationId);
        Assert.Equal("acct-1", e.AccountId);
        Assert.Equal(300, e.AmountMinor);
        Assert.Equal(300, e.HoldReleasedMinor);
        Assert.True(e.AuthorizationClosed);
        Assert.Equal((700L, 0L, 300L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        _h.AssertBalances("acct-1", 700, 0, 300);
        Authorization authorization = _h.AuthorizationOf("a1");
        Assert.Equal(AuthorizationState.Closed, authorization.State);
        Assert.Equal((0L, 300L), (authorization.HeldMinor, authorization.CapturedMinor));
        Assert.Equal(0, _h.AccountOf("acct-1").OpenAuthorizations);
        Assert.Equal(0, _h.Ledger.OpenAuthorizationCount);
        _h.Ledger.CheckInvariants();
    }

    [Fact]
    public void Multiple_partial_captures_post_until_the_authorization_is_fully_captured()
    {
        _h.Authorize("a1", "acct-1", 300);

        LedgerEvent first = _h.Single(Command.Capture("c1", "a1", 100, final: false));
        Assert.Equal(100, first.HoldReleasedMinor);
        Assert.False(first.AuthorizationClosed);
        _h.AssertBalances("acct-1", 700, 200, 100);
        Assert.Equal(AuthorizationState.Open, _h.AuthorizationOf("a1").State);

        LedgerEvent second = _h.Single(Command.Capture("c2", "a1", 150, final: false));
        Assert.False(second.AuthorizationClosed);
        _h.AssertBalances("acct-1", 700, 50, 250);

        LedgerEvent third = _h.Single(Command.Capture("c3", "a1", 50, final: false));
        Assert.True(third.AuthorizationClosed);
        _h.AssertBalances("acct-1", 700, 0, 300);
        Assert.Equal(AuthorizationState.Closed, _h.AuthorizationOf("a1").State);

        _h.AssertDeclined(Command.Capture("c4", "a1", 1, final: false), Status.AuthorizationClosed);
    }

    [Fact]
    public void Final_partial_capture_posts_and_releases_the_rest_of_the_hold()
    {
        _h.Authorize("a1", "acct-1", 300);

        LedgerEvent e = _h.Single(Command.Capture("c1", "a1", 120, final: true));

        Assert.True(e.Final);
        Assert.True(e.AuthorizationClosed);
        Assert.Equal(300, e.HoldReleasedMinor);
        Assert.Equal((880L, 0L, 120L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        _h.AssertBalances("acct-1", 880, 0, 120);
        Assert.Equal(AuthorizationState.Closed, _h.AuthorizationOf("a1").State);
    }

    [Fact]
    public void Capture_after_the_authorization_closed_is_AuthorizationClosed_and_posts_nothing()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Capture("c1", "a1", 100, final: true));
        LedgerEvent e = _h.AssertDeclined(Command.Capture("c2", "a1", 100, final: false), Status.AuthorizationClosed);
        Assert.Equal((900L, 0L, 100L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
    }

    [Fact]
    public void Over_capture_is_allowed_up_to_the_account_overcapture_percent()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000, overcapturePercent: 20);
        h.Authorize("a1", "acct-1", 100);

        h.AssertDeclined(Command.Capture("c0", "a1", 121, final: false), Status.CaptureExceedsAuthorization);
        LedgerEvent e = h.Single(Command.Capture("c1", "a1", 120, final: false));

        Assert.Equal(EventType.Captured, e.Type);
        Assert.Equal(100, e.HoldReleasedMinor);
        Assert.True(e.AuthorizationClosed);
        h.AssertBalances("acct-1", 880, 0, 120);
    }

    [Fact]
    public void Over_capture_tolerance_counts_all_captures_together()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000, overcapturePercent: 10);
        h.Authorize("a1", "acct-1", 100);
        h.Execute(Command.Capture(h.NextRequestId(), "a1", 60, final: false));
        // 60 + 51 = 111 > 110.
        h.AssertDeclined(Command.Capture("c-big", "a1", 51, final: false), Status.CaptureExceedsAuthorization);
    }

    [Fact]
    public void Capture_above_the_authorized_amount_without_overcapture_is_CaptureExceedsAuthorization()
    {
        _h.Authorize("a1", "acct-1", 300);
        LedgerEvent e = _h.AssertDeclined(Command.Capture("c1", "a1", 301, final: true), Status.CaptureExceedsAuthorization);
        Assert.Equal("13", ResponseCodes.For(e.Status));
        Assert.Equal((700L, 300L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal(AuthorizationState.Open, _h.AuthorizationOf("a1").State);
    }

    [Fact]
    public void Capture_is_never_declined_for_lack_of_credit()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000, overcapturePercent: 100);
        h.Authorize("a1", "acct-1", 1_000);
        h.Execute(Command.ChangeLimit(h.NextRequestId(), "acct-1", 0));
        h.AssertBalances("acct-1", -1_000, 1_000, 0);

        LedgerEvent e = h.Single(Command.Capture("c1", "a1", 2_000, final: false));

        Assert.Equal(Status.Ok, e.Status);
        Assert.Equal(-2_000, e.AvailableMinor);
        h.AssertBalances("acct-1", -2_000, 0, 2_000);
    }

    [Fact]
    public void Capture_of_an_unknown_authorization_is_AuthorizationNotFound_with_zero_balances()
    {
        LedgerEvent e = _h.AssertDeclined(Command.Capture("c1", "nope", 1, final: false), Status.AuthorizationNotFound);
        Assert.Equal((0L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal("", e.AccountId);
        Assert.Equal("nope", e.AuthorizationId);
    }

    [Fact]
    public void Capture_after_void_is_refused_and_posts_nothing()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Void("v1", "a1"));

        LedgerEvent e = _h.AssertDeclined(Command.Capture("c1", "a1", 300, final: true), Status.AuthorizationVoided);

        Assert.Equal("acct-1", e.AccountId);
        Assert.Equal((1_000L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        _h.AssertBalances("acct-1", 1_000, 0, 0);
    }

    [Fact]
    public void Capture_of_an_expired_authorization_still_posts()
    {
        _h.Authorize("a1", "acct-1", 300, expiresInSeconds: 60);
        _h.Now += 60_000;
        _h.Execute(Command.Tick());
        Assert.Equal(AuthorizationState.Expired, _h.AuthorizationOf("a1").State);
        _h.AssertBalances("acct-1", 1_000, 0, 0);

        LedgerEvent e = _h.Single(Command.Capture("c1", "a1", 300, final: false));

        Assert.Equal(EventType.Captured, e.Type);
        Assert.Equal(0, e.HoldReleasedMinor);
        Assert.Equal((700L, 0L, 300L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        _h.AssertBalances("acct-1", 700, 0, 300);
        Assert.Equal(300, _h.AuthorizationOf("a1").CapturedMinor);
        _h.Ledger.CheckInvariants();
    }

    [Fact]
    public void Partial_captures_of_an_expired_authorization_post_until_it_is_fully_captured()
    {
        _h.Authorize("a1", "acct-1", 300, expiresInSeconds: 60);
        _h.Now += 60_000;
        _h.Execute(Command.Tick());

        Assert.Equal(Status.Ok, _h.Execute(Command.Capture("c1", "a1", 100, final: false)).Status);
        Assert.Equal(Status.Ok, _h.Execute(Command.Capture("c2", "a1", 200, final: false)).Status);
        _h.AssertBalances("acct-1", 700, 0, 300);
        Assert.Equal(AuthorizationState.Closed, _h.AuthorizationOf("a1").State);
        _h.AssertDeclined(Command.Capture("c3", "a1", 1, final: false), Status.AuthorizationClosed);
    }

    [Fact]
    public void Capture_of_an_expired_authorization_on_a_closed_account_is_AccountClosed()
    {
        _h.Authorize("a1", "acct-1", 300, expiresInSeconds: 60);
        _h.Now += 60_000;
        _h.Execute(Command.Tick());
        _h.Execute(Command.CloseAccount(_h.NextRequestId(), "acct-1"));
        _h.AssertDeclined(Command.Capture("c1", "a1", 300, final: true), Status.AccountClosed);
    }

    [Fact]
    public void Capture_on_a_frozen_account_posts()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1"));
        LedgerEvent e = _h.Single(Command.Capture("c1", "a1", 300, final: true));
        Assert.Equal(EventType.Captured, e.Type);
        _h.AssertBalances("acct-1", 700, 0, 300);
    }

    [Fact]
    public void Capture_that_would_overflow_posted_is_ArithmeticOverflow()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 100);
        h.Authorize("a1", "acct-1", 100);
        h.Execute(Command.ForcePost(h.NextRequestId(), "acct-1", long.MaxValue - 50));
        h.AssertDeclined(Command.Capture("c1", "a1", 100, final: true), Status.ArithmeticOverflow);
        Assert.Equal(Status.Ok, h.Execute(Command.Capture("c2", "a1", 50, final: true)).Status);
        h.AssertBalances("acct-1", 100 - long.MaxValue, 0, long.MaxValue);
    }

    [Fact]
    public void Capture_after_a_partial_reversal_may_not_exceed_authorized_minus_reversed()
    {
        // The defect a review reproduced: 300 authorized, 250 reversed, and a final capture of 300 was accepted.
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Void(_h.NextRequestId(), "a1", 250));
        _h.AssertBalances("acct-1", 950, 50, 0);
        Assert.Equal(250, _h.AuthorizationOf("a1").ReversedMinor);

        LedgerEvent refused = _h.AssertDeclined(Command.Capture("c-too-much", "a1", 300, final: true), Status.CaptureExceedsAuthorization);
        Assert.Equal((950L, 50L, 0L), (refused.AvailableMinor, refused.HeldMinor, refused.PostedMinor));
        _h.AssertDeclined(Command.Capture("c-one-over", "a1", 51, final: true), Status.CaptureExceedsAuthorization);
        _h.AssertBalances("acct-1", 950, 50, 0);

        LedgerEvent e = _h.Single(Command.Capture("c1", "a1", 50, final: false));
        Assert.Equal(50, e.HoldReleasedMinor);
        Assert.True(e.AuthorizationClosed);
        _h.AssertBalances("acct-1", 950, 0, 50);
        Assert.Equal(AuthorizationState.Closed, _h.AuthorizationOf("a1").State);
        _h.Ledger.CheckInvariants();
    }

    [Fact]
    public void Over_capture_tolerance_after_a_partial_reversal_is_a_share_of_what_remains_authorized()
    {
        var h = new LedgerHarness();
        h.Open("acct-oc", 1_000, overcapturePercent: 20);
        h.Authorize("a1", "acct-oc", 300);
        h.Execute(Command.Void(h.NextRequestId(), "a1", 250));

        // 50 remain authorized: 20 % over-capture allows 60 in total, not 360.
        h.AssertDeclined(Command.Capture("c-over", "a1", 61, final: false), Status.CaptureExceedsAuthorization);
        LedgerEvent e = h.Single(Command.Capture("c1", "a1", 60, final: false));

        Assert.Equal(50, e.HoldReleasedMinor);
        Assert.True(e.AuthorizationClosed);
        h.AssertBalances("acct-oc", 940, 0, 60);
    }

    [Fact]
    public void Increments_after_a_partial_reversal_raise_what_may_be_captured_again()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Void(_h.NextRequestId(), "a1", 200));
        _h.Execute(Command.IncrementAuthorization(_h.NextRequestId(), "a1", 150));
        _h.AssertBalances("acct-1", 750, 250, 0);

        // 300 + 150 − 200 = 250 may be captured.
        _h.AssertDeclined(Command.Capture("c-over", "a1", 251, final: true), Status.CaptureExceedsAuthorization);
        Assert.Equal(Status.Ok, _h.Execute(Command.Capture("c1", "a1", 250, final: true)).Status);
        _h.AssertBalances("acct-1", 750, 0, 250);
    }

    [Fact]
    public void Expiry_is_not_a_reversal_so_a_late_capture_is_measured_against_the_authorized_amount()
    {
        var h = new LedgerHarness(new LedgerOptions { DefaultHoldExpirySeconds = 10 });
        h.Open("acct-late", 1_000);
        h.Authorize("a1", "acct-late", 300);
        h.Execute(Command.Void(h.NextRequestId(), "a1", 100));
        h.Now += 11_000;
        h.Execute(Command.Tick());
        Assert.Equal(AuthorizationState.Expired, h.AuthorizationOf("a1").State);
        Assert.Equal(100, h.AuthorizationOf("a1").ReversedMinor);

        h.AssertDeclined(Command.Capture("c-over", "a1", 201, final: true), Status.CaptureExceedsAuthorization);
        Assert.Equal(Status.Ok, h.Execute(Command.Capture("c1", "a1", 200, final: true)).Status);
        h.AssertBalances("acct-late", 800, 0, 200);
    }

    [Fact]
    public void Captured_total_that_would_leave_int64_is_ArithmeticOverflow_and_posts_nothing()
    {
        // Only an expired authorization can be captured again after reaching its amount, up to the tolerance.
        var late = new LedgerHarness(new LedgerOptions { DefaultHoldExpirySeconds = 10 });
        late.Open("acct-big", long.MaxValue, overcapturePercent: 100);
        late.Authorize("a1", "acct-big", long.MaxValue / 2 + 10);
        late.Now += 11_000;
        late.Execute(Command.Tick());
        // One short of the amount, so the expired authorization stays capturable.
        late.Execute(Command.Capture(late.NextRequestId(), "a1", long.MaxValue / 2 + 9, final: false));
        // Repaid, so posting again fits the balances: only the captured counter would wrap.
        late.Execute(Command.Repay(late.NextRequestId(), "acct-big", long.MaxValue / 2 + 9));
        late.AssertBalances("acct-big", long.MaxValue, 0, 0);

        // captured would be (MaxValue/2 + 9) + (MaxValue/2 + 11) > MaxValue although the 100 % tolerance allows it.
        late.AssertDeclined(Command.Capture("c-wrap", "a1", long.MaxValue / 2 + 11, final: false), Status.ArithmeticOverflow);
        Assert.Equal(long.MaxValue / 2 + 9, late.AuthorizationOf("a1").CapturedMinor);
        late.AssertBalances("acct-big", long.MaxValue, 0, 0);
    }

    // ----- Void -----

    [Fact]
    public void Void_with_no_amount_releases_the_whole_hold_and_voids_the_authorization()
    {
        _h.Authorize("a1", "acct-1", 300);

        LedgerEvent e = _h.Single(Command.Void("v1", "a1"));

        Assert.Equal(EventType.Voided, e.Type);
        Assert.Equal(300, e.AmountMinor);
        Assert.Equal(300, e.HoldReleasedMinor);
        Assert.True(e.AuthorizationClosed);
        Assert.Equal((1_000L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal(AuthorizationState.Voided, _h.AuthorizationOf("a1").State);
        Assert.Equal(0, _h.AccountOf("acct-1").OpenAuthorizations);
        _h.AssertBalances("acct-1", 1_000, 0, 0);
    }

    [Fact]
    public void Partial_void_releases_part_of_the_hold_and_keeps_the_authorization_open()
    {
        _h.Authorize("a1", "acct-1", 300);

        LedgerEvent e = _h.Single(Command.Void("v1", "a1", 100));

        Assert.Equal(100, e.HoldReleasedMinor);
        Assert.False(e.AuthorizationClosed);
        _h.AssertBalances("acct-1", 800, 200, 0);
        Assert.Equal(AuthorizationState.Open, _h.AuthorizationOf("a1").State);

        LedgerEvent rest = _h.Single(Command.Void("v2", "a1", 200));
        Assert.True(rest.AuthorizationClosed);
        Assert.Equal(AuthorizationState.Voided, _h.AuthorizationOf("a1").State);
        _h.AssertBalances("acct-1", 1_000, 0, 0);
    }

    [Fact]
    public void Void_of_more_than_the_open_hold_is_AmountExceedsHold()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Capture(_h.NextRequestId(), "a1", 100, final: false));
        LedgerEvent e = _h.AssertDeclined(Command.Void("v1", "a1", 201), Status.AmountExceedsHold);
        Assert.Equal((700L, 200L, 100L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
    }

    [Fact]
    public void Void_of_the_rest_after_a_partial_capture_closes_rather_than_voids()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Capture(_h.NextRequestId(), "a1", 100, final: false));

        LedgerEvent e = _h.Single(Command.Void("v1", "a1"));

        Assert.Equal(200, e.HoldReleasedMinor);
        Assert.True(e.AuthorizationClosed);
        Assert.Equal(AuthorizationState.Closed, _h.AuthorizationOf("a1").State);
        _h.AssertBalances("acct-1", 900, 0, 100);
        _h.AssertDeclined(Command.Capture("c-late", "a1", 10, final: false), Status.AuthorizationClosed);
    }

    [Fact]
    public void Void_of_a_voided_authorization_is_AuthorizationVoided()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Void(_h.NextRequestId(), "a1"));
        _h.AssertDeclined(Command.Void("v2", "a1"), Status.AuthorizationVoided);
    }

    [Fact]
    public void Void_of_a_closed_authorization_is_AuthorizationClosed()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Capture(_h.NextRequestId(), "a1", 300, final: true));
        _h.AssertDeclined(Command.Void("v1", "a1"), Status.AuthorizationClosed);
    }

    [Fact]
    public void Void_of_an_expired_authorization_is_AuthorizationClosed()
    {
        _h.Authorize("a1", "acct-1", 300, expiresInSeconds: 1);
        _h.Now += 1_000;
        _h.Execute(Command.Tick());
        _h.AssertDeclined(Command.Void("v1", "a1"), Status.AuthorizationClosed);
    }

    [Fact]
    public void Void_of_an_unknown_authorization_is_AuthorizationNotFound()
    {
        _h.AssertDeclined(Command.Void("v1", "nope"), Status.AuthorizationNotFound);
    }

    [Fact]
    public void Void_on_a_frozen_account_releases_the_hold()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1"));
        Assert.Equal(Status.Ok, _h.Execute(Command.Void("v1", "a1")).Status);
        _h.AssertBalances("acct-1", 1_000, 0, 0);
    }

    public static TheoryData<string> AuthorizationCommands() => ["Capture", "Void", "IncrementAuthorization"];

    [Theory]
    [MemberData(nameof(AuthorizationCommands))]
    public void A_valid_command_for_an_unknown_authorization_that_also_carries_an_account_id_declines_instead_of_throwing(string type)
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        Command command = type switch
        {
            "Capture" => Command.Capture("c1", "nope", 5, final: false),
            "Void" => Command.Void("c1", "nope"),
            _ => Command.IncrementAuthorization("c1", "nope", 5),
        };
        command.AccountId = "acct-1"; // not a field of this command; the validator ignores it
        Assert.Null(CommandValidator.Validate(command));

        Reply reply = h.Ledger.Execute(command, h.Now, h.Sink);

        Assert.Equal(Status.AuthorizationNotFound, reply.Status);
    }
}
