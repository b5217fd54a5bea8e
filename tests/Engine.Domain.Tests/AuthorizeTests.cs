namespace Engine.Domain.Tests;

/// <summary>docs/SPEC.md Authorize and IncrementAuthorization: holds, decline reasons in order, ISO 8583 codes.</summary>
public sealed class AuthorizeTests
{
    private readonly LedgerHarness _h = new();

    private static long WindowStart(long nowUnixMs, int windowSeconds) => nowUnixMs - nowUnixMs % (windowSeconds * 1000L);

    [Fact]
    public void Authorize_within_available_places_a_hold_named_by_its_request_id()
    {
        _h.Open("acct-1", 1_000);

        LedgerEvent e = _h.Single(Command.Authorize("auth-1", "acct-1", 300, "USD", merchantId: "m-42", mcc: 5411));

        Assert.Equal(EventType.Authorized, e.Type);
        Assert.Equal(Status.Ok, e.Status);
        Assert.Equal(CommandType.Authorize, e.Command);
        Assert.Equal("auth-1", e.AuthorizationId);
        Assert.Equal("acct-1", e.AccountId);
        Assert.Equal(300, e.AmountMinor);
        Assert.Equal("m-42", e.MerchantId);
        Assert.Equal(5411, e.Mcc);
        Assert.Equal(_h.Now, e.TimestampUnixMs);
        Assert.Equal(_h.Now + new LedgerOptions().DefaultHoldExpirySeconds * 1000L, e.ExpiresAtUnixMs);
        Assert.Equal((700L, 300L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        _h.AssertBalances("acct-1", 700, 300, 0);
        Authorization authorization = _h.AuthorizationOf("auth-1");
        Assert.Equal(AuthorizationState.Open, authorization.State);
        Assert.Equal((300L, 300L, 0L), (authorization.AuthorizedMinor, authorization.HeldMinor, authorization.CapturedMinor));
        Assert.Equal(1, _h.AccountOf("acct-1").OpenAuthorizations);
        _h.Ledger.CheckInvariants();
    }

    [Fact]
    public void Authorize_reply_says_approved_with_response_code_00()
    {
        _h.Open("acct-1", 1_000);
        Reply reply = _h.Execute(Command.Authorize("auth-1", "acct-1", 300, "USD"));
        Assert.True(reply.Approved);
        Assert.Equal("00", reply.ResponseCode);
        Assert.Equal((700L, 300L, 0L), (reply.AvailableMinor, reply.HeldMinor, reply.PostedMinor));
    }

    [Fact]
    public void Authorize_for_exactly_the_available_credit_is_approved_and_one_more_unit_is_InsufficientCredit()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 600);
        LedgerEvent declined = _h.AssertDeclined(Command.Authorize("a2", "acct-1", 401, "USD"), Status.InsufficientCredit);
        Assert.Equal("51", ResponseCodes.For(declined.Status));
        Assert.Equal((400L, 600L, 0L), (declined.AvailableMinor, declined.HeldMinor, declined.PostedMinor));
        Assert.Equal(401, declined.AmountMinor);
        Assert.Null(_h.Ledger.TryGetAuthorization("a2", out _) ? "exists" : null);
        _h.Authorize("a3", "acct-1", 400);
        _h.AssertBalances("acct-1", 0, 1_000, 0);
    }

    [Fact]
    public void Available_counts_limit_plus_active_temporary_minus_held_minus_posted()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.SetTemporaryLimit(_h.NextRequestId(), "acct-1", 250, _h.Now + 60_000));
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.ForcePost(_h.NextRequestId(), "acct-1", 200));
        _h.AssertBalances("acct-1", 1_000 + 250 - 300 - 200, 300, 200);
        _h.Authorize("a2", "acct-1", 750);
        _h.AssertDeclined(Command.Authorize("a3", "acct-1", 1, "USD"), Status.InsufficientCredit);
    }

    [Fact]
    public void Authorize_on_an_unknown_account_is_AccountNotFound_14_with_zero_balances()
    {
        LedgerEvent e = _h.AssertDeclined(Command.Authorize("a1", "nope", 1, "USD"), Status.AccountNotFound);
        Assert.Equal("14", ResponseCodes.For(e.Status));
        Assert.Equal((0L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal("nope", e.AccountId);
        Assert.Null(e.AuthorizationId);
    }

    [Fact]
    public void Authorize_on_a_frozen_account_is_AccountFrozen_62_and_carries_available()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a0", "acct-1", 100);
        _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1"));
        LedgerEvent e = _h.AssertDeclined(Command.Authorize("a1", "acct-1", 1, "USD"), Status.AccountFrozen);
        Assert.Equal("62", ResponseCodes.For(e.Status));
        Assert.Equal((900L, 100L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
    }

    [Fact]
    public void Authorize_in_another_currency_is_CurrencyMismatch_12()
    {
        _h.Open("acct-1", 1_000, "EUR");
        LedgerEvent e = _h.AssertDeclined(Command.Authorize("a1", "acct-1", 1, "USD"), Status.CurrencyMismatch);
        Assert.Equal("12", ResponseCodes.For(e.Status));
        Assert.Equal(1_000, e.AvailableMinor);
    }

    [Fact]
    public void Authorize_with_a_blocked_merchant_category_is_MerchantCategoryBlocked_57()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { BlockedMccs = [4829, 7995] }));
        LedgerEvent e = _h.AssertDeclined(Command.Authorize("a1", "acct-1", 1, "USD", mcc: 7995), Status.MerchantCategoryBlocked);
        Assert.Equal("57", ResponseCodes.For(e.Status));
        _h.Authorize("a2", "acct-1", 1); // no mcc: not blocked
        Assert.Equal(Status.Ok, _h.Execute(Command.Authorize("a3", "acct-1", 1, "USD", mcc: 5411)).Status);
    }

    [Fact]
    public void Authorize_above_the_per_authorization_cap_is_AmountLimitExceeded_61()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { MaxAuthorizationAmountMinor = 250 }));
        LedgerEvent e = _h.AssertDeclined(Command.Authorize("a1", "acct-1", 251, "USD"), Status.AmountLimitExceeded);
        Assert.Equal("61", ResponseCodes.For(e.Status));
        _h.Authorize("a2", "acct-1", 250);
    }

    [Fact]
    public void Authorize_beyond_the_velocity_count_per_window_is_VelocityLimitExceeded_65_until_the_next_aligned_window()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { VelocityMaxCount = 2, VelocityWindowSeconds = 60 }));
        long windowStart = WindowStart(_h.Now, 60);
        _h.Authorize("a1", "acct-1", 1);
        _h.Authorize("a2", "acct-1", 1);
        LedgerEvent e = _h.AssertDeclined(Command.Authorize("a3", "acct-1", 1, "USD"), Status.VelocityLimitExceeded);
        Assert.Equal("65", ResponseCodes.For(e.Status));

        // Declines do not count; voids do not give the count back.
        _h.Execute(Command.Void(_h.NextRequestId(), "a1"));
        _h.Now = windowStart + 59_999;
        _h.AssertDeclined(Command.Authorize("a4", "acct-1", 1, "USD"), Status.VelocityLimitExceeded);

        _h.Now = windowStart + 60_000;
        _h.Authorize("a5", "acct-1", 1);
    }

    [Fact]
    public void Authorize_beyond_the_velocity_amount_per_window_is_VelocityLimitExceeded()
    {
        _h.Open("acct-1", 10_000);
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { VelocityMaxAmountMinor = 500, VelocityWindowSeconds = 3600 }));
        long windowStart = WindowStart(_h.Now, 3600);
        _h.Authorize("a1", "acct-1", 300);
        _h.AssertDeclined(Command.Authorize("a2", "acct-1", 201, "USD"), Status.VelocityLimitExceeded);
        _h.Authorize("a3", "acct-1", 200);
        _h.Now = windowStart + 3_600_000;
        _h.Authorize("a4", "acct-1", 500);
    }

    [Fact]
    public void Changing_controls_mid_window_keeps_what_was_already_spent()
    {
        _h.Open("acct-1", 10_000);
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { VelocityMaxCount = 5, VelocityWindowSeconds = 3600 }));
        _h.Authorize("a1", "acct-1", 1);
        _h.Authorize("a2", "acct-1", 1);
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { VelocityMaxCount = 2, VelocityWindowSeconds = 3600 }));
        _h.AssertDeclined(Command.Authorize("a3", "acct-1", 1, "USD"), Status.VelocityLimitExceeded);
    }

    [Fact]
    public void Removing_controls_lifts_every_control()
    {
        _h.Open("acct-1", 10_000);
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { MaxAuthorizationAmountMinor = 1, BlockedMccs = [1] }));
        _h.AssertDeclined(Command.Authorize("a1", "acct-1", 2, "USD"), Status.AmountLimitExceeded);
        LedgerEvent e = _h.Single(Command.SetSpendingControls("r-none", "acct-1", SpendingControls.None));
        Assert.Equal(EventType.SpendingControlsSet, e.Type);
        Assert.Null(_h.AccountOf("acct-1").Controls);
        Assert.Equal(Status.Ok, _h.Execute(Command.Authorize("a2", "acct-1", 2, "USD", mcc: 1)).Status);
    }

    [Fact]
    public void SetSpendingControls_of_an_unknown_account_is_AccountNotFound()
    {
        _h.AssertDeclined(Command.SetSpendingControls("r1", "nope", new SpendingControls { MaxAuthorizationAmountMinor = 5 }), Status.AccountNotFound);
    }

    [Fact]
    public void Authorize_when_the_account_has_the_maximum_open_authorizations_is_OpenAuthorizationLimitExceeded()
    {
        var h = new LedgerHarness(new LedgerOptions { OpenAuthorizationsPerAccountMax = 2 });
        h.Open("acct-1", 1_000);
        h.Authorize("a1", "acct-1", 1);
        h.Authorize("a2", "acct-1", 1);
        h.AssertDeclined(Command.Authorize("a3", "acct-1", 1, "USD"), Status.OpenAuthorizationLimitExceeded);
        h.Execute(Command.Capture(h.NextRequestId(), "a1", 1, final: true));
        h.Authorize("a4", "acct-1", 1);
    }

    [Fact]
    public void Authorize_whose_request_id_names_a_known_authorization_after_the_idempotency_window_is_RequestIdReused()
    {
        // Idempotency forgets request ids quickly here; authorizations are retained for 30 days.
        var h = new LedgerHarness(new LedgerOptions { IdempotencyMinEntries = 1, IdempotencyMinAgeMs = 0 });
        h.Open("acct-1", 1_000);
        h.Authorize("auth-1", "acct-1", 100);
        for (int i = 0; i < 5; i++) { h.Now += 1; h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1)); }

        LedgerEvent e = h.AssertDeclined(Command.Authorize("auth-1", "acct-1", 50, "USD"), Status.RequestIdReused);

        Assert.Equal("94", ResponseCodes.For(e.Status));
        Assert.Equal(100, h.AuthorizationOf("auth-1").AuthorizedMinor);
    }

    [Fact]
    public void Authorize_that_would_overflow_held_is_ArithmeticOverflow_before_InsufficientCredit()
    {
        _h.Open("acct-1", long.MaxValue);
        _h.Authorize("a1", "acct-1", long.MaxValue);
        _h.AssertBalances("acct-1", 0, long.MaxValue, 0);
        _h.AssertDeclined(Command.Authorize("a2", "acct-1", 1, "USD"), Status.ArithmeticOverflow);
    }

    [Fact]
    public void Negative_available_declines_every_new_authorization()
    {
        _h.Open("acct-1", 100);
        _h.Execute(Command.ForcePost(_h.NextRequestId(), "acct-1", 150));
        LedgerEvent e = _h.AssertDeclined(Command.Authorize("a1", "acct-1", 1, "USD"), Status.InsufficientCredit);
        Assert.Equal(-50, e.AvailableMinor);
    }

    // ----- decline order: the first failing check names the decline -----

    [Fact]
    public void Decline_order_closed_before_currency()
    {
        _h.Open("acct-1", 1_000, "EUR");
        _h.Execute(Command.CloseAccount(_h.NextRequestId(), "acct-1"));
        _h.AssertDeclined(Command.Authorize("a1", "acct-1", 5_000, "USD"), Status.AccountClosed);
    }

    [Fact]
    public void Decline_order_frozen_before_currency_controls_and_credit()
    {
        _h.Open("acct-1", 1_000, "EUR");
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { MaxAuthorizationAmountMinor = 1, BlockedMccs = [7995] }));
        _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1"));
        _h.AssertDeclined(Command.Authorize("a1", "acct-1", 5_000, "USD", mcc: 7995), Status.AccountFrozen);
    }

    [Fact]
    public void Decline_order_currency_before_merchant_category()
    {
        _h.Open("acct-1", 1_000, "EUR");
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { BlockedMccs = [7995] }));
        _h.AssertDeclined(Command.Authorize("a1", "acct-1", 5_000, "USD", mcc: 7995), Status.CurrencyMismatch);
    }

    [Fact]
    public void Decline_order_merchant_category_before_amount_cap()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { MaxAuthorizationAmountMinor = 1, BlockedMccs = [7995] }));
        _h.AssertDeclined(Command.Authorize("a1", "acct-1", 5_000, "USD", mcc: 7995), Status.MerchantCategoryBlocked);
    }

    [Fact]
    public void Decline_order_amount_cap_before_velocity()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { MaxAuthorizationAmountMinor = 10, VelocityMaxCount = 1, VelocityWindowSeconds = 3600 }));
        _h.Authorize("a0", "acct-1", 1);
        _h.AssertDeclined(Command.Authorize("a1", "acct-1", 11, "USD"), Status.AmountLimitExceeded);
        _h.AssertDeclined(Command.Authorize("a2", "acct-1", 10, "USD"), Status.VelocityLimitExceeded);
    }

    [Fact]
    public void Decline_order_velocity_before_open_authorization_limit_and_credit()
    {
        var h = new LedgerHarness(new LedgerOptions { OpenAuthorizationsPerAccountMax = 1 });
        h.Open("acct-1", 10);
        h.Execute(Command.SetSpendingControls(h.NextRequestId(), "acct-1", new SpendingControls { VelocityMaxCount = 1, VelocityWindowSeconds = 3600 }));
        h.Authorize("a0", "acct-1", 10);
        h.AssertDeclined(Command.Authorize("a1", "acct-1", 5, "USD"), Status.VelocityLimitExceeded);
    }

    [Fact]
    public void Decline_order_open_authorization_limit_before_credit()
    {
        var h = new LedgerHarness(new LedgerOptions { OpenAuthorizationsPerAccountMax = 1 });
        h.Open("acct-1", 10);
        h.Authorize("a0", "acct-1", 10);
        h.AssertDeclined(Command.Authorize("a1", "acct-1", 5, "USD"), Status.OpenAuthorizationLimitExceeded);
    }

    // ----- IncrementAuthorization -----

    [Fact]
    public void IncrementAuthorization_raises_the_open_hold_and_the_authorized_amount()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 300);

        LedgerEvent e = _h.Single(Command.IncrementAuthorization("inc-1", "a1", 200));

        Assert.Equal(EventType.AuthorizationIncreased, e.Type);
        Assert.Equal("a1", e.AuthorizationId);
        Assert.Equal("acct-1", e.AccountId);
        Assert.Equal(200, e.AmountMinor);
        Assert.Equal((500L, 500L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Authorization authorization = _h.AuthorizationOf("a1");
        Assert.Equal((500L, 500L), (authorization.AuthorizedMinor, authorization.HeldMinor));
        _h.AssertBalances("acct-1", 500, 500, 0);
        Assert.Equal(1, _h.AccountOf("acct-1").OpenAuthorizations);
    }

    [Fact]
    public void IncrementAuthorization_beyond_available_is_InsufficientCredit()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 300);
        LedgerEvent e = _h.AssertDeclined(Command.IncrementAuthorization("inc-1", "a1", 701), Status.InsufficientCredit);
        Assert.Equal((700L, 300L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal("acct-1", e.AccountId);
        Assert.Equal(Status.Ok, _h.Execute(Command.IncrementAuthorization("inc-2", "a1", 700)).Status);
    }

    [Fact]
    public void IncrementAuthorization_on_a_frozen_account_is_AccountFrozen()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1"));
        _h.AssertDeclined(Command.IncrementAuthorization("inc-1", "a1", 1), Status.AccountFrozen);
    }

    [Fact]
    public void IncrementAuthorization_checks_the_amount_cap_against_the_new_total()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { MaxAuthorizationAmountMinor = 500 }));
        _h.Authorize("a1", "acct-1", 300);
        _h.AssertDeclined(Command.IncrementAuthorization("inc-1", "a1", 201), Status.AmountLimitExceeded);
        Assert.Equal(Status.Ok, _h.Execute(Command.IncrementAuthorization("inc-2", "a1", 200)).Status);
    }

    [Fact]
    public void IncrementAuthorization_counts_against_the_velocity_amount_but_not_the_velocity_count()
    {
        _h.Open("acct-1", 10_000);
        _h.Execute(Command.SetSpendingControls(_h.NextRequestId(), "acct-1", new SpendingControls { VelocityMaxCount = 1, VelocityMaxAmountMinor = 500, VelocityWindowSeconds = 3600 }));
        _h.Authorize("a1", "acct-1", 300);
        Assert.Equal(Status.Ok, _h.Execute(Command.IncrementAuthorization("inc-1", "a1", 100)).Status);
        _h.AssertDeclined(Command.IncrementAuthorization("inc-2", "a1", 101), Status.VelocityLimitExceeded);
        Assert.Equal(Status.Ok, _h.Execute(Command.IncrementAuthorization("inc-3", "a1", 100)).Status);
    }

    [Fact]
    public void IncrementAuthorization_of_an_unknown_authorization_is_AuthorizationNotFound()
    {
        LedgerEvent e = _h.AssertDeclined(Command.IncrementAuthorization("inc-1", "nope", 1), Status.AuthorizationNotFound);
        Assert.Equal((0L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal("", e.AccountId);
    }

    [Fact]
    public void IncrementAuthorization_of_a_voided_authorization_is_AuthorizationVoided()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Void(_h.NextRequestId(), "a1"));
        _h.AssertDeclined(Command.IncrementAuthorization("inc-1", "a1", 1), Status.AuthorizationVoided);
    }

    [Fact]
    public void IncrementAuthorization_of_a_closed_authorization_is_AuthorizationClosed()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 300);
        _h.Execute(Command.Capture(_h.NextRequestId(), "a1", 300, final: true));
        _h.AssertDeclined(Command.IncrementAuthorization("inc-1", "a1", 1), Status.AuthorizationClosed);
    }

    [Fact]
    public void IncrementAuthorization_of_an_expired_authorization_is_AuthorizationClosed()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 300, expiresInSeconds: 10);
        _h.Now += 10_000;
        _h.Execute(Command.Tick());
        _h.AssertDeclined(Command.IncrementAuthorization("inc-1", "a1", 1), Status.AuthorizationClosed);
    }

    [Fact]
    public void IncrementAuthorization_that_would_overflow_the_authorized_amount_is_ArithmeticOverflow()
    {
        _h.Open("acct-1", long.MaxValue);
        _h.Authorize("a1", "acct-1", long.MaxValue);
        _h.Execute(Command.Capture(_h.NextRequestId(), "a1", 10, final: false));
        _h.Execute(Command.Repay(_h.NextRequestId(), "acct-1", 10));
        _h.AssertBalances("acct-1", 10, long.MaxValue - 10, 0);
        _h.AssertDeclined(Command.IncrementAuthorization("inc-1", "a1", 5), Status.ArithmeticOverflow);
    }

    [Fact]
    public void IncrementAuthorization_raises_the_over_capture_base()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 100);
        _h.Execute(Command.IncrementAuthorization(_h.NextRequestId(), "a1", 50));
        Assert.Equal(Status.Ok, _h.Execute(Command.Capture(_h.NextRequestId(), "a1", 150, final: false)).Status);
        _h.AssertBalances("acct-1", 850, 0, 150);
        Assert.Equal(AuthorizationState.Closed, _h.AuthorizationOf("a1").State);
    }

    // ----- the ISO 8583 table -----

    [Theory]
    [InlineData(Status.Ok, "00")]
    [InlineData(Status.InsufficientCredit, "51")]
    [InlineData(Status.AccountNotFound, "14")]
    [InlineData(Status.AccountFrozen, "62")]
    [InlineData(Status.AccountClosed, "46")]
    [InlineData(Status.CurrencyMismatch, "12")]
    [InlineData(Status.AmountLimitExceeded, "61")]
    [InlineData(Status.VelocityLimitExceeded, "65")]
    [InlineData(Status.MerchantCategoryBlocked, "57")]
    [InlineData(Status.RequestIdReused, "94")]
    [InlineData(Status.EngineUnavailable, "91")]
    public void Response_codes_follow_the_SPEC_table(Status status, string code)
    {
        Assert.Equal(code, ResponseCodes.For(status));
        Assert.Equal(code, new Reply { Status = status }.ResponseCode);
    }

    [Fact]
    public void Every_status_has_a_two_digit_response_code()
    {
        foreach (Status status in Enum.GetValues<Status>())
        {
            string code = ResponseCodes.For(status);
            Assert.True(code is { Length: 2 } && char.IsAsciiDigit(code[0]) && char.IsAsciiDigit(code[1]), $"{status} -> '{code}'");
        }
    }
}

public class KeyedLookupTests
{
    [Fact]
    public void Authorize_beyond_AuthorizationsMax_is_EngineCapacityExceeded_and_journaled()
    {
        var h = new LedgerHarness(new LedgerOptions { AuthorizationsMax = 2 });
        h.Open("acct-1", 1_000);
        Assert.Equal(Status.Ok, h.Execute(Command.Authorize("a1", "acct-1", 10, "USD")).Status);
        Assert.Equal(Status.Ok, h.Execute(Command.Authorize("a2", "acct-1", 10, "USD")).Status);

        LedgerEvent e = h.AssertDeclined(Command.Authorize("a3", "acct-1", 10, "USD"), Status.EngineCapacityExceeded);

        Assert.Equal(20, e.HeldMinor);
        Assert.Equal(2, h.Ledger.AuthorizationCount);
        Assert.False(h.Ledger.TryGetAuthorization("a3", out _));
        // The decline is recorded like any outcome: a retry gets the same answer, replayed.
        Reply retry = h.Execute(Command.Authorize("a3", "acct-1", 10, "USD"));
        Assert.Equal(Status.EngineCapacityExceeded, retry.Status);
        Assert.True(retry.Replayed);
    }

    [Fact]
    public void Commands_stamped_by_the_producer_decide_exactly_as_unstamped_ones()
    {
        var stamped = new LedgerHarness();
        var plain = new LedgerHarness();
        Command[] commands =
        [
            Command.OpenAccount("o1", "acct-1", "cust", "USD", 1_000),
            Command.Authorize("a1", "acct-1", 300, "USD"),
            Command.IncrementAuthorization("i1", "a1", 50),
            Command.Capture("c1", "a1", 200, final: false),
            Command.Refund("f1", "acct-1", 20, "a1"),
            Command.Void("v1", "a1"),
            Command.Capture("c2", "missing", 1, final: true),
            Command.Repay("r1", "acct-unknown", 5),
            Command.Authorize("a1", "acct-1", 999, "USD"),
        ];
        foreach (Command command in commands)
        {
            Command copy = command;
            Fingerprints.StampKeys(ref copy);
            Assert.Equal(plain.Execute(command), stamped.Execute(copy));
        }
        Assert.Equal(plain.Sink.Events, stamped.Sink.Events);
        Assert.Equal(plain.Ledger.ComputeDigest(), stamped.Ledger.ComputeDigest());
    }
}
