namespace Engine.Domain.Tests;

/// <summary>docs/SPEC.md "Bad input gets a clear status naming the problem": the validator names the snake_case field.</summary>
public sealed class CommandValidatorTests
{
    private static readonly string Id64 = new('a', 64);
    private static readonly string Id65 = new('a', 65);

    private static void AssertInvalid(Command command, string field)
    {
        ValidationError? error = CommandValidator.Validate(command);
        Assert.True(error is not null, $"expected {field} to be refused");
        Assert.Equal(field, error!.Value.Field);
        Assert.False(string.IsNullOrWhiteSpace(error.Value.Message));
    }

    private static void AssertValid(Command command) => Assert.Null(CommandValidator.Validate(command));

    public static TheoryData<string> BadIds() => ["", Id65, "has space", "tab\there", "new\nline", "caf\u00e9", "del\u007f", "nul\0", "emoji\ud83d\ude00"];

    [Theory]
    [MemberData(nameof(BadIds))]
    public void Request_id_must_be_1_to_64_printable_ASCII_characters(string requestId)
    {
        AssertInvalid(Command.Repay(requestId, "acct-1", 5), "request_id");
        AssertInvalid(Command.Authorize(requestId, "acct-1", 5, "USD"), "request_id");
        AssertInvalid(Command.OpenAccount(requestId, "acct-1", "c", "USD", 5), "request_id");
    }

    [Fact]
    public void Request_id_null_is_refused()
    {
        AssertInvalid(new Command { Type = CommandType.Repay, RequestId = null!, AccountId = "a", AmountMinor = 1, Mcc = -1 }, "request_id");
    }

    [Fact]
    public void Ids_of_1_and_64_printable_characters_are_accepted()
    {
        AssertValid(Command.Repay("r", "a", 5));
        AssertValid(Command.Repay(Id64, Id64, 5));
        AssertValid(Command.Repay("!~#{}|", "A-z_0.9:/@", 5));
    }

    [Theory]
    [MemberData(nameof(BadIds))]
    public void Account_id_must_be_1_to_64_printable_ASCII_characters_on_every_command_that_names_one(string accountId)
    {
        AssertInvalid(Command.OpenAccount("r", accountId, "c", "USD", 5), "account_id");
        AssertInvalid(Command.ChangeLimit("r", accountId, 5), "account_id");
        AssertInvalid(Command.SetTemporaryLimit("r", accountId, 5, 1), "account_id");
        AssertInvalid(Command.Freeze("r", accountId), "account_id");
        AssertInvalid(Command.Unfreeze("r", accountId), "account_id");
        AssertInvalid(Command.CloseAccount("r", accountId), "account_id");
        AssertInvalid(Command.Authorize("r", accountId, 5, "USD"), "account_id");
        AssertInvalid(Command.ForcePost("r", accountId, 5), "account_id");
        AssertInvalid(Command.Refund("r", accountId, 5), "account_id");
        AssertInvalid(Command.Repay("r", accountId, 5), "account_id");
        AssertInvalid(Command.SetSpendingControls("r", accountId, SpendingControls.None), "account_id");
    }

    [Theory]
    [MemberData(nameof(BadIds))]
    public void Customer_id_must_be_1_to_64_printable_ASCII_characters(string customerId)
    {
        AssertInvalid(Command.OpenAccount("r", "a", customerId, "USD", 5), "customer_id");
    }

    [Theory]
    [MemberData(nameof(BadIds))]
    public void Authorization_id_must_be_1_to_64_printable_ASCII_characters(string authorizationId)
    {
        AssertInvalid(Command.IncrementAuthorization("r", authorizationId, 5), "authorization_id");
        AssertInvalid(Command.Capture("r", authorizationId, 5, final: false), "authorization_id");
        AssertInvalid(Command.Void("r", authorizationId), "authorization_id");
    }

    [Fact]
    public void Optional_ids_may_be_absent_but_not_malformed()
    {
        AssertValid(Command.Refund("r", "a", 5, authorizationId: null));
        AssertInvalid(Command.Refund("r", "a", 5, authorizationId: Id65), "authorization_id");
        AssertInvalid(Command.Refund("r", "a", 5, authorizationId: "a b"), "authorization_id");
        AssertValid(Command.Authorize("r", "a", 5, "USD", merchantId: null));
        AssertInvalid(Command.Authorize("r", "a", 5, "USD", merchantId: Id65), "merchant_id");
        AssertInvalid(Command.ForcePost("r", "a", 5, merchantId: "m\u00e9"), "merchant_id");
    }

    [Theory]
    [InlineData("usd")]
    [InlineData("US")]
    [InlineData("USDD")]
    [InlineData("")]
    [InlineData("U1D")]
    [InlineData("U D")]
    [InlineData(null)]
    public void Currency_must_be_three_upper_case_letters(string? currency)
    {
        AssertInvalid(Command.OpenAccount("r", "a", "c", currency!, 5), "currency");
        AssertInvalid(Command.Authorize("r", "a", 5, currency!), "currency");
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public void Amounts_must_be_positive(long amount)
    {
        AssertInvalid(Command.Authorize("r", "a", amount, "USD"), "amount");
        AssertInvalid(Command.IncrementAuthorization("r", "z", amount), "amount");
        AssertInvalid(Command.Capture("r", "z", amount, final: true), "amount");
        AssertInvalid(Command.ForcePost("r", "a", amount), "amount");
        AssertInvalid(Command.Refund("r", "a", amount), "amount");
        AssertInvalid(Command.Repay("r", "a", amount), "amount");
    }

    [Fact]
    public void Void_amount_may_be_zero_for_the_whole_hold_but_not_negative()
    {
        AssertValid(Command.Void("r", "z"));
        AssertValid(Command.Void("r", "z", 5));
        AssertInvalid(Command.Void("r", "z", -1), "amount");
    }

    [Fact]
    public void Limits_may_be_zero_but_not_negative()
    {
        AssertValid(Command.OpenAccount("r", "a", "c", "USD", 0));
        AssertValid(Command.ChangeLimit("r", "a", 0));
        AssertValid(Command.OpenAccount("r", "a", "c", "USD", long.MaxValue));
        AssertInvalid(Command.OpenAccount("r", "a", "c", "USD", -1), "credit_limit");
        AssertInvalid(Command.ChangeLimit("r", "a", -1), "credit_limit");
        AssertInvalid(Command.SetTemporaryLimit("r", "a", -1, 1), "amount");
    }

    [Fact]
    public void Temporary_limit_needs_an_expiry_unless_it_cancels()
    {
        AssertValid(Command.SetTemporaryLimit("r", "a", 0, 0));
        AssertValid(Command.SetTemporaryLimit("r", "a", 5, 1));
        AssertInvalid(Command.SetTemporaryLimit("r", "a", 5, 0), "expires_at_unix_ms");
        AssertInvalid(Command.SetTemporaryLimit("r", "a", 5, -1), "expires_at_unix_ms");
        AssertInvalid(Command.SetTemporaryLimit("r", "a", 0, -1), "expires_at_unix_ms");
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(100, true)]
    [InlineData(101, false)]
    [InlineData(255, false)]
    public void Overcapture_percent_is_0_to_100(int percent, bool valid)
    {
        Command command = Command.OpenAccount("r", "a", "c", "USD", 5, percent);
        if (valid) AssertValid(command); else AssertInvalid(command, "overcapture_percent");
    }

    [Theory]
    [InlineData(-2, false)]
    [InlineData(-1, true)]
    [InlineData(0, true)]
    [InlineData(9999, true)]
    [InlineData(10000, false)]
    [InlineData(int.MaxValue, false)]
    public void Mcc_is_0_to_9999_or_absent(int mcc, bool valid)
    {
        Command authorize = Command.Authorize("r", "a", 5, "USD", mcc: mcc);
        Command forcePost = Command.ForcePost("r", "a", 5, mcc: mcc);
        if (valid) { AssertValid(authorize); AssertValid(forcePost); }
        else { AssertInvalid(authorize, "mcc"); AssertInvalid(forcePost, "mcc"); }
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(1, true)]
    [InlineData(30 * 24 * 3600, true)]
    [InlineData(30 * 24 * 3600 + 1, false)]
    public void Expires_in_seconds_is_0_for_the_default_or_up_to_30_days(int seconds, bool valid)
    {
        Command command = Command.Authorize("r", "a", 5, "USD", expiresInSeconds: seconds);
        if (valid) AssertValid(command); else AssertInvalid(command, "expires_in_seconds");
    }

    [Fact]
    public void Reason_is_optional_printable_text_up_to_256_characters()
    {
        AssertValid(Command.Freeze("r", "a"));
        AssertValid(Command.Freeze("r", "a", null!));
        AssertValid(Command.Freeze("r", "a", "suspected fraud, case #12"));
        AssertValid(Command.Unfreeze("r", "a", new string('x', 256)));
        AssertInvalid(Command.Freeze("r", "a", new string('x', 257)), "reason");
        AssertInvalid(Command.Unfreeze("r", "a", "line\nbreak"), "reason");
        AssertInvalid(Command.Freeze("r", "a", "caf\u00e9"), "reason");
    }

    public static TheoryData<string, string> BadControls() => new()
    {
        { "null", "controls" },
        { "negative cap", "max_authorization_amount" },
        { "negative count", "velocity_max_count" },
        { "negative velocity amount", "velocity_max_amount" },
        { "count without window", "velocity_window_seconds" },
        { "amount without window", "velocity_window_seconds" },
        { "negative window", "velocity_window_seconds" },
        { "window too long", "velocity_window_seconds" },
        { "mcc out of range", "blocked_mccs" },
        { "negative mcc", "blocked_mccs" },
        { "unsorted mccs", "blocked_mccs" },
        { "duplicate mccs", "blocked_mccs" },
        { "too many mccs", "blocked_mccs" },
    };

    [Theory]
    [MemberData(nameof(BadControls))]
    public void Spending_controls_are_checked_field_by_field(string problem, string field)
    {
        SpendingControls? controls = problem switch
        {
            "null" => null,
            "negative cap" => new SpendingControls { MaxAuthorizationAmountMinor = -1 },
            "negative count" => new SpendingControls { VelocityMaxCount = -1, VelocityWindowSeconds = 60 },
            "negative velocity amount" => new SpendingControls { VelocityMaxAmountMinor = -1, VelocityWindowSeconds = 60 },
            "count without window" => new SpendingControls { VelocityMaxCount = 1 },
            "amount without window" => new SpendingControls { VelocityMaxAmountMinor = 1 },
            "negative window" => new SpendingControls { VelocityWindowSeconds = -1 },
            "window too long" => new SpendingControls { VelocityMaxCount = 1, VelocityWindowSeconds = CommandValidator.VelocityWindowSecondsMax + 1 },
            "mcc out of range" => new SpendingControls { BlockedMccs = [10000] },
            "negative mcc" => new SpendingControls { BlockedMccs = [-1] },
            "unsorted mccs" => new SpendingControls { BlockedMccs = [5, 4] },
            "duplicate mccs" => new SpendingControls { BlockedMccs = [4, 4] },
            "too many mccs" => new SpendingControls { BlockedMccs = Enumerable.Range(0, CommandValidator.BlockedMccCountMax + 1).ToArray() },
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };
        AssertInvalid(Command.SetSpendingControls("r", "a", controls!), field);
    }

    [Fact]
    public void Well_formed_spending_controls_are_accepted()
    {
        AssertValid(Command.SetSpendingControls("r", "a", SpendingControls.None));
        AssertValid(Command.SetSpendingControls("r", "a", new SpendingControls
        {
            MaxAuthorizationAmountMinor = 1,
            VelocityMaxCount = 1,
            VelocityMaxAmountMinor = 1,
            VelocityWindowSeconds = CommandValidator.VelocityWindowSecondsMax,
            BlockedMccs = Enumerable.Range(9999 - CommandValidator.BlockedMccCountMax + 1, CommandValidator.BlockedMccCountMax).ToArray(),
        }));
    }

    [Theory]
    [InlineData(CommandType.None)]
    [InlineData(CommandType.Tick)]
    [InlineData((CommandType)99)]
    public void Unknown_and_engine_internal_command_types_are_refused(CommandType type)
    {
        AssertInvalid(new Command { Type = type, RequestId = "r", AccountId = "a", AmountMinor = 1, Mcc = -1 }, "command");
    }

    [Fact]
    public void Every_factory_command_with_good_values_is_valid()
    {
        AssertValid(Command.OpenAccount("r", "a", "c", "USD", 5, 10));
        AssertValid(Command.ChangeLimit("r", "a", 5));
        AssertValid(Command.SetTemporaryLimit("r", "a", 5, 1_700_000_000_000));
        AssertValid(Command.Freeze("r", "a", "why"));
        AssertValid(Command.Unfreeze("r", "a"));
        AssertValid(Command.CloseAccount("r", "a"));
        AssertValid(Command.Authorize("r", "a", 5, "USD", "m", 5411, 60));
        AssertValid(Command.IncrementAuthorization("r", "z", 5));
        AssertValid(Command.Capture("r", "z", 5, final: true));
        AssertValid(Command.Void("r", "z", 5));
        AssertValid(Command.ForcePost("r", "a", 5, "m", 5411));
        AssertValid(Command.Refund("r", "a", 5, "z"));
        AssertValid(Command.Repay("r", "a", 5));
        AssertValid(Command.SetSpendingControls("r", "a", new SpendingControls { MaxAuthorizationAmountMinor = 5 }));
    }

    [Fact]
    public void Validation_error_names_the_field_in_its_text()
    {
        ValidationError error = CommandValidator.Validate(Command.Repay("r", "a", 0))!.Value;
        Assert.StartsWith("amount:", error.ToString());
        var exception = new InvalidCommandException(error);
        Assert.Equal("amount", exception.ParamName);
    }
}
