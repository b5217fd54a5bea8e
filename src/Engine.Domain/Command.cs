namespace Engine.Domain;

/// <summary>
/// One command to the engine. A mutable struct so it can live in a pre-allocated ring slot and be
/// overwritten in place; fields a command does not use stay at their defaults.
/// Which fields each <see cref="CommandType"/> reads is listed in <see cref="CommandValidator"/>.
/// </summary>
public struct Command
{
    public CommandType Type;
    /// <summary>The idempotency key: 1–64 printable ASCII characters.</summary>
    public string RequestId;
    public string? AccountId;
    /// <summary>The <c>request_id</c> of the Authorize that created the authorization.</summary>
    public string? AuthorizationId;
    public string? CustomerId;
    /// <summary>ISO 4217 alphabetic code, three upper-case letters.</summary>
    public string? Currency;
    public string? MerchantId;
    /// <summary>Free text for Freeze / Unfreeze, at most <see cref="CommandValidator.ReasonLengthMax"/> characters.</summary>
    public string? Reason;
    /// <summary>The amount in minor units: authorization / capture / void / post / refund / repay amount,
    /// the new credit limit (ChangeLimit, OpenAccount) or the temporary limit (SetTemporaryLimit).</summary>
    public long AmountMinor;
    /// <summary>SetTemporaryLimit: when the temporary limit stops counting.</summary>
    public long ExpiresAtUnixMs;
    /// <summary>Authorize: hold lifetime; 0 means the engine default.</summary>
    public int ExpiresInSeconds;
    /// <summary>ISO 18245 merchant category code 0–9999, or -1 when absent.</summary>
    public int Mcc;
    /// <summary>OpenAccount: over-capture tolerance in percent of the authorized amount.</summary>
    public int OvercapturePercent;
    /// <summary>Capture: close the authorization and release what is left of the hold.</summary>
    public bool Final;
    /// <summary>SetSpendingControls: the controls to install.</summary>
    public SpendingControls? Controls;
    /// <summary>OpenAccount (optional) / SetBillingTerms: billing settings.</summary>
    public BillingTerms? Billing;
    /// <summary>SetDelinquencyPolicy: the per-account override; null: back to the engine default.</summary>
    public DelinquencyPolicy? Policy;
    /// <summary>ScheduleDues: the plan, 1–360 items.</summary>
    public ScheduledDue[]? Dues;
    /// <summary>TopUp: PREPAID or DEPOSIT.</summary>
    public FundsKind FundsKind;
    /// <summary>
    /// Account administration (<see cref="CommandKinds.IsAccountAdministration"/>): the principal that sent it, recorded in
    /// its event for the audit trail; 1–<see cref="CommandValidator.IdLengthMax"/> printable ASCII characters, or null.
    /// Not part of the payload fingerprint: a retry by another key of the same request is the same request.
    /// </summary>
    public string? Actor;

    // Computed once by the producer (Fingerprints.StampKeys), carried in the ring slot so the decide thread hashes no
    // string. Not part of the payload: the fingerprint covers the fields above only.
    /// <summary><see cref="Fingerprints.RequestKey"/> of <see cref="RequestId"/>.</summary>
    public UInt128 RequestKey;
    /// <summary><see cref="Fingerprints.IdKey"/> of <see cref="AccountId"/> (0 when absent).</summary>
    public UInt128 AccountKey;
    /// <summary><see cref="Fingerprints.IdKey"/> of <see cref="AuthorizationId"/> (0 when absent or empty).</summary>
    public UInt128 AuthorizationKey;
    /// <summary><see cref="Fingerprints.Payload"/> of this command.</summary>
    public ulong PayloadFingerprint;
    /// <summary>The four fields above are set; when false, <see cref="Ledger.Execute"/> computes them itself.</summary>
    public bool KeysStamped;

    public static Command OpenAccount(string requestId, string accountId, string customerId, string currency, long creditLimitMinor, int overcapturePercent = 0) =>
        new() { Type = CommandType.OpenAccount, RequestId = requestId, AccountId = accountId, CustomerId = customerId, Currency = currency, AmountMinor = creditLimitMinor, OvercapturePercent = overcapturePercent, Mcc = -1 };

    public static Command ChangeLimit(string requestId, string accountId, long creditLimitMinor) =>
        new() { Type = CommandType.ChangeLimit, RequestId = requestId, AccountId = accountId, AmountMinor = creditLimitMinor, Mcc = -1 };

    public static Command SetTemporaryLimit(string requestId, string accountId, long amountMinor, long expiresAtUnixMs) =>
        new() { Type = CommandType.SetTemporaryLimit, RequestId = requestId, AccountId = accountId, AmountMinor = amountMinor, ExpiresAtUnixMs = expiresAtUnixMs, Mcc = -1 };

    public static Command Freeze(string requestId, string accountId, string reason = "") =>
        new() { Type = CommandType.Freeze, RequestId = requestId, AccountId = accountId, Reason = reason, Mcc = -1 };

    public static Command Unfreeze(string requestId, string accountId, string reason = "") =>
        new() { Type = CommandType.Unfreeze, RequestId = requestId, AccountId = accountId, Reason = reason, Mcc = -1 };

    public static Command CloseAccount(string requestId, string accountId) =>
        new() { Type = CommandType.CloseAccount, RequestId = requestId, AccountId = accountId, Mcc = -1 };

    public static Command Authorize(string requestId, string accountId, long amountMinor, string currency, string? merchantId = null, int mcc = -1, int expiresInSeconds = 0) =>
        new() { Type = CommandType.Authorize, RequestId = requestId, AccountId = accountId, AmountMinor = amountMinor, Currency = currency, MerchantId = merchantId, Mcc = mcc, ExpiresInSeconds = expiresInSeconds };

    public static Command IncrementAuthorization(string requestId, string authorizationId, long amountMinor) =>
        new() { Type = CommandType.IncrementAuthorization, RequestId = requestId, AuthorizationId = authorizationId, AmountMinor = amountMinor, Mcc = -1 };

    public static Command Capture(string requestId, string authorizationId, long amountMinor, bool final) =>
        new() { Type = CommandType.Capture, RequestId = requestId, AuthorizationId = authorizationId, AmountMinor = amountMinor, Final = final, Mcc = -1 };

    /// <summary>Void the whole open hold (<paramref name="amountMinor"/> = 0) or part of it.</summary>
    public static Command Void(string requestId, string authorizationId, long amountMinor = 0) =>
        new() { Type = CommandType.Void, RequestId = requestId, AuthorizationId = authorizationId, AmountMinor = amountMinor, Mcc = -1 };

    public static Command ForcePost(string requestId, string accountId, long amountMinor, string? merchantId = null, int mcc = -1) =>
        new() { Type = CommandType.ForcePost, RequestId = requestId, AccountId = accountId, AmountMinor = amountMinor, MerchantId = merchantId, Mcc = mcc };

    public static Command Refund(string requestId, string accountId, long amountMinor, string? authorizationId = null) =>
        new() { Type = CommandType.Refund, RequestId = requestId, AccountId = accountId, AmountMinor = amountMinor, AuthorizationId = authorizationId, Mcc = -1 };

    public static Command Repay(string requestId, string accountId, long amountMinor) =>
        new() { Type = CommandType.Repay, RequestId = requestId, AccountId = accountId, AmountMinor = amountMinor, Mcc = -1 };

    public static Command SetSpendingControls(string requestId, string accountId, SpendingControls controls) =>
        new() { Type = CommandType.SetSpendingControls, RequestId = requestId, AccountId = accountId, Controls = controls, Mcc = -1 };

    public static Command OpenAccount(string requestId, string accountId, string customerId, string currency, long creditLimitMinor, BillingTerms billing, int overcapturePercent = 0) =>
        OpenAccount(requestId, accountId, customerId, currency, creditLimitMinor, overcapturePercent) with { Billing = billing };

    public static Command SetBillingTerms(string requestId, string accountId, BillingTerms billing) =>
        new() { Type = CommandType.SetBillingTerms, RequestId = requestId, AccountId = accountId, Billing = billing, Mcc = -1 };

    public static Command ScheduleDues(string requestId, string accountId, ScheduledDue[] dues) =>
        new() { Type = CommandType.ScheduleDues, RequestId = requestId, AccountId = accountId, Dues = dues, Mcc = -1 };

    public static Command SetDelinquencyPolicy(string requestId, string accountId, DelinquencyPolicy? policy) =>
        new() { Type = CommandType.SetDelinquencyPolicy, RequestId = requestId, AccountId = accountId, Policy = policy, Mcc = -1 };

    public static Command TopUp(string requestId, string accountId, long amountMinor, FundsKind kind) =>
        new() { Type = CommandType.TopUp, RequestId = requestId, AccountId = accountId, AmountMinor = amountMinor, FundsKind = kind, Mcc = -1 };

    public static Command ReleaseDeposit(string requestId, string accountId, long amountMinor) =>
        new() { Type = CommandType.ReleaseDeposit, RequestId = requestId, AccountId = accountId, AmountMinor = amountMinor, Mcc = -1 };

    public static Command ApplyDeposit(string requestId, string accountId, long amountMinor) =>
        new() { Type = CommandType.ApplyDeposit, RequestId = requestId, AccountId = accountId, AmountMinor = amountMinor, Mcc = -1 };

    public static Command PayOut(string requestId, string accountId, long amountMinor) =>
        new() { Type = CommandType.PayOut, RequestId = requestId, AccountId = accountId, AmountMinor = amountMinor, Mcc = -1 };

    /// <summary>Test clocks: move engine time forward by <paramref name="advanceMs"/> (the server allows it only when configured).</summary>
    public static Command AdvanceClock(string requestId, long advanceMs) =>
        new() { Type = CommandType.AdvanceClock, RequestId = requestId, AmountMinor = advanceMs, Mcc = -1 };

    /// <summary>The engine's own time signal; expires due holds.</summary>
    public static Command Tick() => new() { Type = CommandType.Tick, RequestId = "", Mcc = -1 };
}

/// <summary>
/// What <see cref="Fingerprints.StampKeys(ref Command)"/> writes into a command, computed apart so a producer can hash
/// before it claims ring slots and only copy while it holds them.
/// </summary>
public readonly record struct CommandKeys(UInt128 RequestKey, UInt128 AccountKey, UInt128 AuthorizationKey, ulong PayloadFingerprint)
{
    public void StampOnto(ref Command command)
    {
        command.RequestKey = RequestKey;
        command.AccountKey = AccountKey;
        command.AuthorizationKey = AuthorizationKey;
        command.PayloadFingerprint = PayloadFingerprint;
        command.KeysStamped = true;
    }
}
