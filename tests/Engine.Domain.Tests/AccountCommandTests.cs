namespace Engine.Domain.Tests;

/// <summary>docs/SPEC.md "Commands and their rules": OpenAccount, ChangeLimit, SetTemporaryLimit, Freeze / Unfreeze, CloseAccount.</summary>
public sealed class AccountCommandTests
{
    private readonly LedgerHarness _h = new();

    [Fact]
    public void OpenAccount_creates_an_active_account_whose_available_is_its_limit()
    {
        LedgerEvent e = _h.Single(Command.OpenAccount("r1", "acct-1", "cust-1", "EUR", 50_000, overcapturePercent: 15));

        Assert.Equal(EventType.AccountOpened, e.Type);
        Assert.Equal(Status.Ok, e.Status);
        Assert.Equal("00", ResponseCodes.For(e.Status));
        Assert.Equal("acct-1", e.AccountId);
        Assert.Equal("cust-1", e.CustomerId);
        Assert.Equal(50_000, e.AmountMinor);
        Assert.Equal(CurrencyCode.Pack("EUR"), e.CurrencyCode);
        Assert.Equal(15, e.OvercapturePercent);
        Assert.Equal((50_000L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Account account = _h.AccountOf("acct-1");
        Assert.Equal(AccountStatus.Active, account.Status);
        Assert.Equal(50_000, account.CreditLimitMinor);
        Assert.Equal("cust-1", account.CustomerId);
        Assert.Equal("EUR", CurrencyCode.Unpack(account.CurrencyCode));
        Assert.Equal(15, account.OvercapturePercent);
        _h.AssertBalances("acct-1", 50_000, 0, 0);
        Assert.Equal(1, _h.Ledger.AccountCount);
    }

    [Fact]
    public void OpenAccount_with_a_zero_limit_is_allowed_and_declines_every_authorization()
    {
        _h.Open("acct-1", 0);
        _h.AssertDeclined(Command.Authorize("a1", "acct-1", 1, "USD"), Status.InsufficientCredit);
    }

    [Fact]
    public void OpenAccount_of_an_existing_id_is_AccountExists_and_changes_nothing()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 300);

        LedgerEvent e = _h.AssertDeclined(Command.OpenAccount("r-again", "acct-1", "other", "EUR", 9_999), Status.AccountExists);

        Assert.Equal("acct-1", e.AccountId);
        Assert.Equal((700L, 300L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal(1_000, _h.AccountOf("acct-1").CreditLimitMinor);
        Assert.Equal(1, _h.Ledger.AccountCount);
    }

    [Fact]
    public void OpenAccount_of_a_closed_account_id_is_AccountExists()
    {
        _h.Open("acct-1", 1_000);
        Assert.Equal(Status.Ok, _h.Execute(Command.CloseAccount(_h.NextRequestId(), "acct-1")).Status);

        _h.AssertDeclined(Command.OpenAccount(_h.NextRequestId(), "acct-1", "c", "USD", 1_000), Status.AccountExists);
        Assert.Equal(AccountStatus.Closed, _h.AccountOf("acct-1").Status);
    }

    [Fact]
    public void OpenAccount_beyond_MaxAccounts_is_EngineCapacityExceeded()
    {
        var h = new LedgerHarness(new LedgerOptions { AccountsMax = 2 });
        h.Open("a", 1);
        h.Open("b", 1);

        LedgerEvent e = h.AssertDeclined(Command.OpenAccount("r-c", "c", "cust", "USD", 1), Status.EngineCapacityExceeded);

        Assert.Equal((0L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal(2, h.Ledger.AccountCount);
        Assert.False(h.Ledger.TryGetAccount("c", out _));
    }

    [Fact]
    public void ChangeLimit_sets_the_limit_and_the_new_available()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 400);

        LedgerEvent e = _h.Single(Command.ChangeLimit("r-cl", "acct-1", 5_000));

        Assert.Equal(EventType.LimitChanged, e.Type);
        Assert.Equal(5_000, e.AmountMinor);
        Assert.Equal((4_600L, 400L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal(5_000, _h.AccountOf("acct-1").CreditLimitMinor);
        _h.AssertBalances("acct-1", 4_600, 400, 0);
    }

    [Fact]
    public void ChangeLimit_may_go_below_current_use_making_available_negative_and_declining_authorizations()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 400);
        _h.Execute(Command.ForcePost(_h.NextRequestId(), "acct-1", 300));

        LedgerEvent e = _h.Single(Command.ChangeLimit("r-cl", "acct-1", 100));

        Assert.Equal(Status.Ok, e.Status);
        Assert.Equal(-600, e.AvailableMinor);
        _h.AssertBalances("acct-1", -600, 400, 300);
        LedgerEvent declined = _h.AssertDeclined(Command.Authorize("a2", "acct-1", 1, "USD"), Status.InsufficientCredit);
        Assert.Equal(-600, declined.AvailableMinor);
        Assert.Equal("51", ResponseCodes.For(declined.Status));
    }

    [Fact]
    public void ChangeLimit_of_an_unknown_account_is_AccountNotFound_with_zero_balances()
    {
        LedgerEvent e = _h.AssertDeclined(Command.ChangeLimit("r1", "nope", 5), Status.AccountNotFound);
        Assert.Equal("14", ResponseCodes.For(e.Status));
        Assert.Equal((0L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal("nope", e.AccountId);
    }

    [Fact]
    public void SetTemporaryLimit_adds_credit_until_its_expiry_without_anyone_calling()
    {
        _h.Open("acct-1", 1_000);
        long expiresAt = _h.Now + 60_000;

        LedgerEvent e = _h.Single(Command.SetTemporaryLimit("r-tl", "acct-1", 500, expiresAt));

        Assert.Equal(EventType.TemporaryLimitSet, e.Type);
        Assert.Equal(500, e.AmountMinor);
        Assert.Equal(expiresAt, e.ExpiresAtUnixMs);
        Assert.Equal(1_500, e.AvailableMinor);
        _h.AssertBalances("acct-1", 1_500, 0, 0);

        // The temporary credit is usable before expiry ...
        _h.Now = expiresAt - 1;
        _h.Authorize("a1", "acct-1", 1_200);
        _h.AssertBalances("acct-1", 300, 1_200, 0);

        // ... and stops counting at its expiry: no event, available simply drops (negative here).
        _h.Now = expiresAt;
        var (tickReply, tickEvents) = _h.Run(Command.Tick());
        Assert.Empty(tickEvents);
        Assert.Equal(Status.Ok, tickReply.Status);
        _h.AssertBalances("acct-1", -200, 1_200, 0);
        LedgerEvent declined = _h.AssertDeclined(Command.Authorize("a2", "acct-1", 1, "USD"), Status.InsufficientCredit);
        Assert.Equal(-200, declined.AvailableMinor);
    }

    [Fact]
    public void SetTemporaryLimit_of_zero_cancels_the_temporary_limit()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.SetTemporaryLimit(_h.NextRequestId(), "acct-1", 500, _h.Now + 3_600_000));
        _h.AssertBalances("acct-1", 1_500, 0, 0);

        LedgerEvent e = _h.Single(Command.SetTemporaryLimit("r-cancel", "acct-1", 0, 0));

        Assert.Equal(EventType.TemporaryLimitSet, e.Type);
        Assert.Equal(1_000, e.AvailableMinor);
        Assert.Equal(0, _h.AccountOf("acct-1").TemporaryLimitMinor);
        _h.AssertBalances("acct-1", 1_000, 0, 0);
    }

    [Fact]
    public void SetTemporaryLimit_replaces_the_previous_temporary_limit()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.SetTemporaryLimit(_h.NextRequestId(), "acct-1", 500, _h.Now + 3_600_000));
        _h.Execute(Command.SetTemporaryLimit(_h.NextRequestId(), "acct-1", 200, _h.Now + 10));
        _h.AssertBalances("acct-1", 1_200, 0, 0);
        _h.Now += 10;
        _h.AssertBalances("acct-1", 1_000, 0, 0);
    }

    [Fact]
    public void SetTemporaryLimit_that_already_expired_adds_nothing()
    {
        _h.Open("acct-1", 1_000);
        LedgerEvent e = _h.Single(Command.SetTemporaryLimit("r-tl", "acct-1", 500, _h.Now));
        Assert.Equal(Status.Ok, e.Status);
        Assert.Equal(1_000, e.AvailableMinor);
        _h.AssertBalances("acct-1", 1_000, 0, 0);
    }

    [Fact]
    public void SetTemporaryLimit_of_an_unknown_account_is_AccountNotFound()
    {
        _h.AssertDeclined(Command.SetTemporaryLimit("r1", "nope", 5, _h.Now + 1), Status.AccountNotFound);
    }

    [Fact]
    public void Freeze_and_Unfreeze_change_status_with_one_event_each_and_keep_balances()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 100);

        LedgerEvent frozen = _h.Single(Command.Freeze("r-f", "acct-1", "fraud review"));
        Assert.Equal(EventType.AccountFrozen, frozen.Type);
        Assert.Equal("fraud review", frozen.Reason);
        Assert.Equal((900L, 100L, 0L), (frozen.AvailableMinor, frozen.HeldMinor, frozen.PostedMinor));
        Assert.Equal(AccountStatus.Frozen, _h.AccountOf("acct-1").Status);

        LedgerEvent unfrozen = _h.Single(Command.Unfreeze("r-u", "acct-1", "cleared"));
        Assert.Equal(EventType.AccountUnfrozen, unfrozen.Type);
        Assert.Equal(AccountStatus.Active, _h.AccountOf("acct-1").Status);
        _h.AssertBalances("acct-1", 900, 100, 0);
    }

    [Fact]
    public void Unfreeze_restores_authorizations()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1"));
        _h.AssertDeclined(Command.Authorize("a1", "acct-1", 100, "USD"), Status.AccountFrozen);
        _h.Execute(Command.Unfreeze(_h.NextRequestId(), "acct-1"));
        _h.Authorize("a2", "acct-1", 100);
        _h.AssertBalances("acct-1", 900, 100, 0);
    }

    [Fact]
    public void Freeze_of_a_frozen_account_and_Unfreeze_of_an_active_one_are_accepted()
    {
        _h.Open("acct-1", 1_000);
        Assert.Equal(Status.Ok, _h.Execute(Command.Unfreeze(_h.NextRequestId(), "acct-1")).Status);
        Assert.Equal(Status.Ok, _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1")).Status);
        Assert.Equal(Status.Ok, _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1")).Status);
        Assert.Equal(AccountStatus.Frozen, _h.AccountOf("acct-1").Status);
    }

    [Fact]
    public void Freeze_of_an_unknown_account_is_AccountNotFound()
    {
        _h.AssertDeclined(Command.Freeze("r1", "nope"), Status.AccountNotFound);
        _h.AssertDeclined(Command.Unfreeze("r2", "nope"), Status.AccountNotFound);
    }

    [Fact]
    public void Frozen_account_still_takes_admin_changes()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1"));
        Assert.Equal(Status.Ok, _h.Execute(Command.ChangeLimit(_h.NextRequestId(), "acct-1", 2_000)).Status);
        Assert.Equal(Status.Ok, _h.Execute(Command.SetTemporaryLimit(_h.NextRequestId(), "acct-1", 10, _h.Now + 1_000)).Status);
        _h.AssertBalances("acct-1", 2_010, 0, 0);
        Assert.Equal(AccountStatus.Frozen, _h.AccountOf("acct-1").Status);
    }

    [Fact]
    public void CloseAccount_with_zero_held_and_posted_closes_it()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 100);
        _h.Execute(Command.Capture(_h.NextRequestId(), "a1", 100, final: true));
        _h.Execute(Command.Repay(_h.NextRequestId(), "acct-1", 100));

        LedgerEvent e = _h.Single(Command.CloseAccount("r-close", "acct-1"));

        Assert.Equal(EventType.AccountClosed, e.Type);
        Assert.Equal((1_000L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal(AccountStatus.Closed, _h.AccountOf("acct-1").Status);
    }

    [Fact]
    public void CloseAccount_of_a_frozen_account_with_no_balance_closes_it()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.Freeze(_h.NextRequestId(), "acct-1"));
        Assert.Equal(Status.Ok, _h.Execute(Command.CloseAccount(_h.NextRequestId(), "acct-1")).Status);
        Assert.Equal(AccountStatus.Closed, _h.AccountOf("acct-1").Status);
    }

    [Fact]
    public void CloseAccount_with_an_open_hold_is_AccountHasBalance()
    {
        _h.Open("acct-1", 1_000);
        _h.Authorize("a1", "acct-1", 1);
        LedgerEvent e = _h.AssertDeclined(Command.CloseAccount("r-close", "acct-1"), Status.AccountHasBalance);
        Assert.Equal((999L, 1L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal(AccountStatus.Active, _h.AccountOf("acct-1").Status);
    }

    [Fact]
    public void CloseAccount_with_a_debit_balance_is_AccountHasBalance()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.ForcePost(_h.NextRequestId(), "acct-1", 1));
        _h.AssertDeclined(Command.CloseAccount("r-close", "acct-1"), Status.AccountHasBalance);
    }

    [Fact]
    public void CloseAccount_with_a_credit_balance_is_AccountHasBalance()
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.Repay(_h.NextRequestId(), "acct-1", 1));
        _h.AssertDeclined(Command.CloseAccount("r-close", "acct-1"), Status.AccountHasBalance);
    }

    [Fact]
    public void CloseAccount_of_an_unknown_account_is_AccountNotFound()
    {
        _h.AssertDeclined(Command.CloseAccount("r-close", "nope"), Status.AccountNotFound);
    }

    public static TheoryData<string> CommandsOnAClosedAccount() =>
    [
        "ChangeLimit", "SetTemporaryLimit", "Freeze", "Unfreeze", "CloseAccount", "SetSpendingControls",
        "Authorize", "ForcePost", "Refund", "Repay",
    ];

    [Theory]
    [MemberData(nameof(CommandsOnAClosedAccount))]
    public void Closed_account_refuses_everything_with_AccountClosed(string commandName)
    {
        _h.Open("acct-1", 1_000);
        _h.Execute(Command.CloseAccount(_h.NextRequestId(), "acct-1"));
        Command command = commandName switch
        {
            "ChangeLimit" => Command.ChangeLimit("r", "acct-1", 5),
            "SetTemporaryLimit" => Command.SetTemporaryLimit("r", "acct-1", 5, _h.Now + 1_000),
            "Freeze" => Command.Freeze("r", "acct-1"),
            "Unfreeze" => Command.Unfreeze("r", "acct-1"),
            "CloseAccount" => Command.CloseAccount("r", "acct-1"),
            "SetSpendingControls" => Command.SetSpendingControls("r", "acct-1", new SpendingControls { MaxAuthorizationAmountMinor = 5 }),
            "Authorize" => Command.Authorize("r", "acct-1", 5, "USD"),
            "ForcePost" => Command.ForcePost("r", "acct-1", 5),
            "Refund" => Command.Refund("r", "acct-1", 5),
            "Repay" => Command.Repay("r", "acct-1", 5),
            _ => throw new ArgumentOutOfRangeException(nameof(commandName)),
        };

        LedgerEvent e = _h.AssertDeclined(command, Status.AccountClosed);

        Assert.Equal("46", ResponseCodes.For(e.Status));
        Assert.Equal((1_000L, 0L, 0L), (e.AvailableMinor, e.HeldMinor, e.PostedMinor));
        Assert.Equal(AccountStatus.Closed, _h.AccountOf("acct-1").Status);
    }
}
