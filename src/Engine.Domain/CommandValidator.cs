namespace Engine.Domain;

/// <summary>
/// Shape checks that need no state: ids, amounts, codes, ranges. Runs on the caller's thread before a
/// command enters the ring, so malformed input never reaches the journal. Field names are the
/// <c>snake_case</c> names of docs/SPEC.md and the protos.
/// </summary>
public static class CommandValidator
{
    public const int IdLengthMax = 64;
    public const int ReasonLengthMax = 256;
    public const int OvercapturePercentMax = 100;
    /// <summary>Longest hold a request may ask for: 30 days, the longest card-network authorization lifetime.</summary>
    public const int ExpiresInSecondsMax = 30 * 24 * 3600;
    public const int MccMax = 9999;
    public const int BlockedMccCountMax = 64;
    public const int VelocityWindowSecondsMax = 31 * 24 * 3600;

    /// <summary>Returns the first problem with <paramref name="command"/>, or null when it is well-formed.</summary>
    public static ValidationError? Validate(in Command command)
    {
        if (command.Type is CommandType.None or CommandType.Tick || command.Type > CommandType.AdvanceClock)
            return new ValidationError("command", $"unknown command type {(int)command.Type}");

        if (CheckId(command.RequestId, "request_id", required: true) is { } requestIdError) return requestIdError;
        if (command.Actor is not null && CheckId(command.Actor, "actor", required: true) is { } actorError) return actorError;

        switch (command.Type)
        {
            case CommandType.OpenAccount:
                return CheckId(command.AccountId, "account_id", required: true)
                    ?? CheckId(command.CustomerId, "customer_id", required: true)
                    ?? CheckCurrency(command.Currency)
                    ?? CheckNonNegative(command.AmountMinor, "credit_limit")
                    ?? (command.OvercapturePercent is < 0 or > OvercapturePercentMax
                        ? Fail("overcapture_percent", $"must be 0..{OvercapturePercentMax}") : null)
                    ?? (command.Billing is { } billing ? LifecycleValidator.CheckBilling(billing) : null);
            case CommandType.ChangeLimit:
                return CheckId(command.AccountId, "account_id", required: true)
                    ?? CheckNonNegative(command.AmountMinor, "credit_limit");
            case CommandType.SetTemporaryLimit:
                return CheckId(command.AccountId, "account_id", required: true)
                    ?? CheckNonNegative(command.AmountMinor, "amount")
                    ?? (command.AmountMinor > 0 && command.ExpiresAtUnixMs <= 0
                        ? Fail("expires_at_unix_ms", "must be > 0 when amount > 0") : null)
                    ?? (command.ExpiresAtUnixMs < 0 ? Fail("expires_at_unix_ms", "must be >= 0") : null);
            case CommandType.Freeze:
            case CommandType.Unfreeze:
                return CheckId(command.AccountId, "account_id", required: true)
                    ?? CheckText(command.Reason, "reason", ReasonLengthMax);
            case CommandType.CloseAccount:
                return CheckId(command.AccountId, "account_id", required: true);
            case CommandType.Authorize:
                return CheckId(command.AccountId, "account_id", required: true)
                    ?? CheckPositive(command.AmountMinor, "amount")
                    ?? CheckCurrency(command.Currency)
                    ?? CheckId(command.MerchantId, "merchant_id", required: false)
                    ?? CheckMcc(command.Mcc)
                    ?? (command.ExpiresInSeconds is < 0 or > ExpiresInSecondsMax
                        ? Fail("expires_in_seconds", $"must be 0 (engine default) or 1..{ExpiresInSecondsMax}") : null);
            case CommandType.IncrementAuthorization:
                return CheckId(command.AuthorizationId, "authorization_id", required: true)
                    ?? CheckPositive(command.AmountMinor, "amount");
            case CommandType.Capture:
                return CheckId(command.AuthorizationId, "authorization_id", required: true)
                    ?? CheckPositive(command.AmountMinor, "amount");
            case CommandType.Void:
                return CheckId(command.AuthorizationId, "authorization_id", required: true)
                    ?? CheckNonNegative(command.AmountMinor, "amount");
            case CommandType.ForcePost:
                return CheckId(command.AccountId, "account_id", required: true)
                    ?? CheckPositive(command.AmountMinor, "amount")
                    ?? CheckId(command.MerchantId, "merchant_id", required: false)
                    ?? CheckMcc(command.Mcc);
            case CommandType.Refund:
                return CheckId(command.AccountId, "account_id", required: true)
                    ?? CheckPositive(command.AmountMinor, "amount")
                    ?? CheckId(command.AuthorizationId, "authorization_id", required: false);
            case CommandType.Repay:
                return CheckId(command.AccountId, "account_id", required: true)
                    ?? CheckPositive(command.AmountMinor, "amount");
            case CommandType.SetSpendingControls:
                return CheckId(command.AccountId, "account_id", required: true)
                    ?? CheckControls(command.Controls);
            case CommandType.SetBillingTerms:
            case CommandType.ScheduleDues:
            case CommandType.SetDelinquencyPolicy:
            case CommandType.TopUp:
            case CommandType.ReleaseDeposit:
            case CommandType.ApplyDeposit:
            case CommandType.PayOut:
            case CommandType.AdvanceClock:
                return LifecycleValidator.Validate(command);
            default:
                return new ValidationError("command", $"unknown command type {(int)command.Type}");
        }
    }

    private static ValidationError? Fail(string field, string message) => new ValidationError(field, message);

    /// <summary>1–64 printable ASCII characters (0x21..0x7E; no spaces, no control characters).</summary>
    public static ValidationError? CheckId(string? value, string field, bool required)
    {
        if (string.IsNullOrEmpty(value))
            return required ? Fail(field, "is required (1-64 printable ASCII characters)") : null;
        if (value.Length > IdLengthMax)
            return new ValidationError(field, $"is {value.Length} characters; at most {IdLengthMax} allowed");
        foreach (char c in value)
        {
            if (c is < '!' or > '~')
                return new ValidationError(field, "must be printable ASCII without spaces (0x21-0x7E)");
        }
        return null;
    }

    private static ValidationError? CheckText(string? value, string field, int lengthMax)
    {
        if (value is null) return null;
        if (value.Length > lengthMax) return new ValidationError(field, $"is {value.Length} characters; at most {lengthMax} allowed");
        foreach (char c in value)
        {
            if (c is < ' ' or > '~') return new ValidationError(field, "must be printable ASCII (0x20-0x7E)");
        }
        return null;
    }

    private static ValidationError? CheckPositive(long amount, string field) =>
        amount > 0 ? null : new ValidationError(field, $"must be > 0 minor units (was {amount})");

    private static ValidationError? CheckNonNegative(long amount, string field) =>
        amount >= 0 ? null : new ValidationError(field, $"must be >= 0 minor units (was {amount})");

    private static ValidationError? CheckCurrency(string? currency) =>
        currency is not null && CurrencyCode.IsValid(currency)
            ? null
            : new ValidationError("currency", "must be an ISO 4217 alphabetic code: three upper-case letters");

    private static ValidationError? CheckMcc(int mcc) =>
        mcc is >= -1 and <= MccMax ? null : new ValidationError("mcc", $"must be 0..{MccMax} (or absent)");

    private static ValidationError? CheckControls(SpendingControls? controls)
    {
        if (controls is null) return new ValidationError("controls", "is required");
        if (controls.MaxAuthorizationAmountMinor < 0) return new ValidationError("max_authorization_amount", "must be >= 0");
        if (controls.VelocityMaxCount < 0) return new ValidationError("velocity_max_count", "must be >= 0");
        if (controls.VelocityMaxAmountMinor < 0) return new ValidationError("velocity_max_amount", "must be >= 0");
        bool velocityOn = controls.VelocityMaxCount > 0 || controls.VelocityMaxAmountMinor > 0;
        if (controls.VelocityWindowSeconds < 0 || controls.VelocityWindowSeconds > VelocityWindowSecondsMax || (velocityOn && controls.VelocityWindowSeconds == 0))
            return new ValidationError("velocity_window_seconds", $"must be 1..{VelocityWindowSecondsMax} when a velocity limit is set");
        if (controls.BlockedMccs.Length > BlockedMccCountMax)
            return new ValidationError("blocked_mccs", $"at most {BlockedMccCountMax} codes");
        for (int i = 0; i < controls.BlockedMccs.Length; i++)
        {
            int mcc = controls.BlockedMccs[i];
            if (mcc is < 0 or > MccMax) return new ValidationError("blocked_mccs", $"code {mcc} is outside 0..{MccMax}");
            if (i > 0 && controls.BlockedMccs[i - 1] >= mcc) return new ValidationError("blocked_mccs", "must be sorted ascending without duplicates");
        }
        return null;
    }
}
