namespace Engine.Domain.Tests;

/// <summary>docs/SPEC.md ForcePost, Refund, Repay: postings without a hold, never refused for lack of credit.</summary>
public sealed class PostingTests
{
    private readonly LedgerHarness _h = new();

    public PostingTests() => _h.Open("acct-1", 1_000);

    [Fact]
    public void ForcePost_posts_without_an_authorization()
    {
        LedgerEvent e = _h.Single(Command.ForcePost("fp1", "acct-1", 400, merchantId: "m-1", mcc: 5541));

        Assert.Equal(EventType.ForcePosted, e.Type);
        Assert.Equal(400, e.AmountMinor);
        Assert.Equal("m-1", e.MerchantId);
        Assert.Equal(5541, e.Mcc);
        Assert.Null(e.AuthorizationId);
        Assert.Equal((600L, 0L, 400L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        _h.AssertBalances("acct-1", 600, 0, 400);
    }

    [Fact]
    public void ForcePost_may_take_available_below_zero()
    {
        _h.Authorize("a1", "acct-1", 900);
        LedgerEvent e = _h.Single(Command.ForcePost("fp1", "acct-1", 500));
        Assert.Equal(Status.Ok, e.Status);
        Assert.Equal(-400, e.AvailableMinor);
        _h.AssertBalances("acct-1", -400, 900, 500);
    }

    [Fact]
    public void ForcePost_ignores_spending_controls()
    {
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { MaxAuthorizationAmountMinor = 1, BlockedMccs = [5541] }));
        Assert.Equal(Status.Ok, _h.Execute(Command.ForcePost("fp1", "acct-1", 500, mcc: 5541)).Status);
    }

    [Fact]
    public void ForcePost_on_a_frozen_account_posts()
    {
        _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1"));
        Assert.Equal(Status.Ok, _h.Execute(Command.ForcePost("fp1", "acct-1", 500)).Status);
        _h.AssertBalances("acct-1", 500, 0, 500);
    }

    [Fact]
    public void ForcePost_to_an_unknown_account_is_AccountNotFound()
    {
        _h.AssertDeclined(Command.ForcePost("fp1", "nope", 5), Status.AccountNotFound);
    }

    [Fact]
    public void ForcePost_that_would_overflow_posted_is_ArithmeticOverflow_and_changes_nothing()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 0);
        Assert.Equal(Status.Ok, h.Execute(Command.ForcePost(h.NextRequestId(), "acct-1", long.MaxValue)).Status);
        h.AssertDeclined(Command.ForcePost("fp-over", "acct-1", 1), Status.ArithmeticOverflow);
        h.AssertBalances("acct-1", -long.MaxValue, 0, long.MaxValue);
    }

    [Fact]
    public void Repay_reduces_posted()
    {
        _h.Execute(Command.ForcePost(_h.NextRequestId(), "acct-1", 400));

        LedgerEvent e = _h.Single(Command.Repay("rp1", "acct-1", 150));

        Assert.Equal(EventType.Repaid, e.Type);
        Assert.Equal(150, e.AmountMinor);
        Assert.Equal((750L, 0L, 250L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        _h.AssertBalances("acct-1", 750, 0, 250);
    }

    [Fact]
    public void Repay_may_make_posted_negative_raising_available_above_the_limit()
    {
        LedgerEvent e = _h.Single(Command.Repay("rp1", "acct-1", 300));
        Assert.Equal((1_300L, 0L, -300L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        _h.Authorize("a1", "acct-1", 1_300);
        _h.AssertBalances("acct-1", 0, 1_300, -300);
    }

    [Fact]
    public void Repay_on_a_frozen_account_posts()
    {
        _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1"));
        Assert.Equal(Status.Ok, _h.Execute(Command.Repay("rp1", "acct-1", 5)).Status);
        _h.AssertBalances("acct-1", 1_005, 0, -5);
    }

    [Fact]
    public void Repay_to_an_unknown_account_is_AccountNotFound()
    {
        _h.AssertDeclined(Command.Repay("rp1", "nope", 5), Status.AccountNotFound);
    }

    [Fact]
    public void Repay_that_would_take_balances_outside_int64_is_ArithmeticOverflow()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 0);
        Assert.Equal(Status.Ok, h.Execute(Command.Repay(h.NextRequestId(), "acct-1", long.MaxValue)).Status);
        h.AssertBalances("acct-1", long.MaxValue, 0, -long.MaxValue);
        // posted would reach long.MinValue and available long.MaxValue + 1.
        h.AssertDeclined(Command.Repay("rp-over", "acct-1", 1), Status.ArithmeticOverflow);
        h.AssertDeclined(Command.Repay("rp-over-2", "acct-1", long.MaxValue), Status.ArithmeticOverflow);
    }

    [Fact]
    public void Refund_reduces_posted()
    {
        _h.Execute(Command.ForcePost(_h.NextRequestId(), "acct-1", 400));
        LedgerEvent e = _h.Single(Command.Refund("rf1", "acct-1", 100));
        Assert.Equal(EventType.Refunded, e.Type);
        Assert.Null(e.AuthorizationId);
        Assert.Equal((700L, 0L, 300L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        _h.AssertBalances("acct-1", 700, 0, 300);
    }

    [Fact]
    public void Refund_without_authorization_may_make_posted_negative()
    {
        LedgerEvent e = _h.Single(Command.Refund("rf1", "acct-1", 100));
        Assert.Equal((1_100L, 0L, -100L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
    }

    [Fact]
    public void Refund_linked_to_an_authorization_is_limited_to_what_was_captured_on_it()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Capture(_h.NextRequestId(), "a1", 200, final: true));

        LedgerEvent first = _h.Single(Command.Refund("rf1", "acct-1", 150, authorizationId: "a1"));
        Assert.Equal(EventType.Refunded, first.Type);
        Assert.Equal("a1", first.AuthorizationId);
        Assert.Equal(150, _h.AuthorizationOf("a1").RefundedMinor);
        _h.AssertBalances("acct-1", 950, 0, 50);

        LedgerEvent over = _h.AssertDeclined(Command.Refund("rf2", "acct-1", 51, authorizationId: "a1"), Status.RefundExceedsCapture);
        Assert.Equal("13", ResponseCodes.For(over.Status));
        Assert.Equal(Status.Ok, _h.Execute(Command.Refund("rf3", "acct-1", 50, authorizationId: "a1")).Status);
        _h.AssertBalances("acct-1", 1_000, 0, 0);
        Assert.Equal(200, _h.AuthorizationOf("a1").RefundedMinor);
    }

    [Fact]
    public void Refund_linked_to_an_uncaptured_authorization_is_RefundExceedsCapture()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.AssertDeclined(Command.Refund("rf1", "acct-1", 1, authorizationId: "a1"), Status.RefundExceedsCapture);
    }

    [Fact]
    public void Refund_linked_to_another_accounts_authorization_is_AuthorizationNotFound()
    {
        _h.Open("acct-2", 1_000);
        _h.Authorize("a2", "acct-2", 300);
        _h.Execute(Command.Capture(_h.NextRequestId(), "a2", 300, final: true));
        LedgerEvent e = _h.AssertDeclined(Command.Refund("rf1", "acct-1", 100, authorizationId: "a2"), Status.AuthorizationNotFound);
        Assert.Equal("acct-1", e.AccountId);
        Assert.Equal((1_000L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
    }

    [Fact]
    public void Refund_linked_to_an_unknown_authorization_is_AuthorizationNotFound()
    {
        _h.AssertDeclined(Command.Refund("rf1", "acct-1", 100, authorizationId: "nope"), Status.AuthorizationNotFound);
    }

    [Fact]
    public void Refund_on_a_frozen_account_posts()
    {
        _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1"));
        Assert.Equal(Status.Ok, _h.Execute(Command.Refund("rf1", "acct-1", 5)).Status);
    }

    [Fact]
    public void Refund_to_an_unknown_account_is_AccountNotFound()
    {
        _h.AssertDeclined(Command.Refund("rf1", "nope", 5), Status.AccountNotFound);
    }

    [Fact]
    public void A_refund_with_an_empty_authorization_id_is_valid_and_posts_unlinked()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        Command refund = Command.Refund("rf", "acct-1", 5, authorizationId: "");
        Assert.Null(CommandValidator.Validate(refund));
        LedgerEvent e = h.Single(refund);
        Assert.Equal((EventType.Refunded, Status.Ok), (e.Type, e.Status));
        Assert.Null(e.AuthorizationId);
        h.AssertBalances("acct-1", 1_005, 0, -5);
    }
}
