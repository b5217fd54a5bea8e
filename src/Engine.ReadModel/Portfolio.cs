using Engine.Domain;

namespace Engine.ReadModel;

/// <summary>Accounts and exposure (posted + held) of one group.</summary>
public sealed record PortfolioGroup(long Accounts, long ExposureMinor);

/// <summary>
/// Portfolio totals kept incrementally as events apply (docs/LIFECYCLE.md "GetPortfolio"): never a scan per query.
/// Past-due amounts are as of each account's last event.
/// </summary>
public sealed record PortfolioView(
    long Sequence,
    IReadOnlyDictionary<AccountStatus, PortfolioGroup> ByStatus,
    IReadOnlyDictionary<DelinquencyStage, PortfolioGroup> ByStage,
    long ReceivablesMinor,
    long PastDueMinor,
    long DepositsMinor,
    long PrepaidMinor,
    IReadOnlyList<DelinquentAccountView> LargestPastDue);

/// <summary>The running totals behind <see cref="PortfolioView"/>; one account's share is removed before an event and added after.</summary>
internal sealed class PortfolioTotals
{
    private readonly long[] _accountsByStatus = new long[3];
    private readonly Int128[] _exposureByStatus = new Int128[3];
    private readonly long[] _accountsByStage = new long[4];
    private readonly Int128[] _exposureByStage = new Int128[4];
    private Int128 _receivables, _pastDue, _deposits, _prepaid;
    // The past-due share each lifecycle account contributed at its last event (past due grows with time alone, so the
    // share removed before an event must be the one added after the previous one).
    private readonly Dictionary<string, long> _pastDueShare = new(StringComparer.Ordinal);

    /// <summary>Adds (<paramref name="sign"/> = +1) or removes (−1) one account's share.</summary>
    public void Add(in Account account, long atUnixMs, int sign)
    {
        Int128 exposure = (Int128)account.PostedMinor + account.HeldMinor;
        _accountsByStatus[(int)account.Status] += sign;
        _exposureByStatus[(int)account.Status] += sign * exposure;
        DelinquencyStage stage = account.Lifecycle?.Stage ?? DelinquencyStage.Current;
        _accountsByStage[(int)stage] += sign;
        _exposureByStage[(int)stage] += sign * exposure;
        if (account.PostedMinor < 0) _prepaid += sign * -(Int128)account.PostedMinor;
        if (account.Lifecycle is { } lifecycle)
        {
            _receivables += sign * (Int128)lifecycle.OpenDuesMinor;
            if (sign < 0)
            {
                if (_pastDueShare.Remove(account.Id, out long share)) _pastDue -= share;
            }
            else
            {
                long share = lifecycle.PastDueMinor(EngineDays.DayOf(atUnixMs));
                _pastDueShare[account.Id] = share;
                _pastDue += share;
            }
            _deposits += sign * (Int128)lifecycle.DepositMinor;
        }
    }

    private static long Clamp(Int128 value) => value > long.MaxValue ? long.MaxValue : value < long.MinValue ? long.MinValue : (long)value;

    public PortfolioView View(long sequence, IReadOnlyList<DelinquentAccountView> largest) => new(
        sequence,
        Enum.GetValues<AccountStatus>().ToDictionary(s => s, s => new PortfolioGroup(_accountsByStatus[(int)s], Clamp(_exposureByStatus[(int)s]))),
        Enum.GetValues<DelinquencyStage>().ToDictionary(s => s, s => new PortfolioGroup(_accountsByStage[(int)s], Clamp(_exposureByStage[(int)s]))),
        Clamp(_receivables), Clamp(_pastDue), Clamp(_deposits), Clamp(_prepaid),
        largest);
}
