namespace Engine.Domain;

/// <summary>
/// One credit account, stored by value in the ledger's dense account array (≈ 72 bytes plus its id strings).
/// </summary>
public struct Account
{
    public string Id;
    /// <summary><see cref="Fingerprints.IdKey"/> of <see cref="Id"/>: the account index's key, carried into events.</summary>
    public UInt128 Key;
    public string CustomerId;
    /// <summary>Null for the common account without spending controls (costs 8 bytes, not an object).</summary>
    public AccountControls? Controls;
    /// <summary>Null for accounts without billing, dues, policy override or deposit (docs/LIFECYCLE.md).</summary>
    public AccountLifecycle? Lifecycle;
    public long CreditLimitMinor;
    public long TemporaryLimitMinor;
    public long TemporaryLimitExpiresAtUnixMs;
    /// <summary>Sum of the open holds of this account's authorizations.</summary>
    public long HeldMinor;
    /// <summary>Captured + force-posted − refunded − repaid; negative is a credit balance.</summary>
    public long PostedMinor;
    public int OpenAuthorizations;
    public ushort CurrencyCode;
    public AccountStatus Status;
    public byte OvercapturePercent;
    /// <summary>
    /// <see cref="Lifecycle"/>'s stage is FROZEN_DELINQUENT or worse (docs/LIFECYCLE.md): a mirror kept by the ledger's
    /// Apply, so that deciding an authorization reads no lifecycle object (a cache miss per command on TERMS accounts).
    /// </summary>
    public bool DelinquencyFrozen;

    /// <summary>The temporary limit if it has not expired at <paramref name="nowUnixMs"/>, else 0.</summary>
    public readonly long ActiveTemporaryLimit(long nowUnixMs) =>
        TemporaryLimitMinor > 0 && nowUnixMs < TemporaryLimitExpiresAtUnixMs ? TemporaryLimitMinor : 0;

    /// <summary>available = credit_limit + (temporary_limit if not expired) − held − posted (docs/SPEC.md).
    /// The ledger never lets this leave the int64 range (see <see cref="Balances.Representable"/>).</summary>
    public readonly long Available(long nowUnixMs) =>
        (long)Balances.Available(CreditLimitMinor, ActiveTemporaryLimit(nowUnixMs), HeldMinor, PostedMinor);
}

/// <summary>Spending controls installed on an account, with the state of its current velocity window.</summary>
public sealed class AccountControls(SpendingControls spec)
{
    public SpendingControls Spec { get; } = spec;
    public long WindowStartUnixMs;
    public int WindowCount;
    public long WindowAmountMinor;

    /// <summary>The start of the velocity window containing <paramref name="nowUnixMs"/>; 0 when no velocity limit is set.</summary>
    public long WindowStartFor(long nowUnixMs)
    {
        if (Spec.VelocityWindowSeconds <= 0) return 0;
        long windowMs = Spec.VelocityWindowSeconds * 1000L;
        return nowUnixMs - (nowUnixMs % windowMs);
    }

    /// <summary>Count and amount already authorized in the window containing <paramref name="nowUnixMs"/>.</summary>
    public (int Count, long AmountMinor) UsageAt(long nowUnixMs) =>
        WindowStartFor(nowUnixMs) == WindowStartUnixMs ? (WindowCount, WindowAmountMinor) : (0, 0);

    public void Record(long nowUnixMs, int count, long amountMinor)
    {
        long start = WindowStartFor(nowUnixMs);
        if (start != WindowStartUnixMs)
        {
            WindowStartUnixMs = start;
            WindowCount = 0;
            WindowAmountMinor = 0;
        }
        WindowCount += count;
        WindowAmountMinor = Balances.SaturatingAdd(WindowAmountMinor, amountMinor);
    }
}
