using Engine.Domain;

namespace Engine.ReadModel;

/// <summary>Accounts and exposure (posted + held) of one group.</summary>
public sealed record PortfolioGroup(long Accounts, long ExposureMinor);

/// <summary>
/// Portfolio totals kept incrementally as events apply (docs/LIFECYCLE.md "GetPortfolio"): never a scan of the accounts
/// per query. Aging and past due are evaluated at the query's engine time from the dues by day
/// (<see cref="PortfolioFlows"/>); the largest past-due accounts are ranked as of each account's last event.
/// </summary>
public sealed record PortfolioView(
    long Sequence,
    IReadOnlyDictionary<AccountStatus, PortfolioGroup> ByStatus,
    IReadOnlyDictionary<DelinquencyStage, PortfolioGroup> ByStage,
    long ReceivablesMinor,
    long PastDueMinor,
    long DepositsMinor,
    long PrepaidMinor,
    IReadOnlyList<DelinquentAccountView> LargestPastDue,
    /// <summary>Open dues by aging bucket (<see cref="LifecycleView.BucketNames"/>): current, 1–30, 31–60, 61–90, 91–180, 180+ days.</summary>
    IReadOnlyList<long> AgingMinor,
    /// <summary>The last 24 calendar months up to the query's, oldest first.</summary>
    IReadOnlyList<PortfolioMonth> Months);

/// <summary>The running totals behind <see cref="PortfolioView"/>; one account's share is removed before an event and added after.</summary>
internal sealed class PortfolioTotals
{
    private readonly long[] _accountsByStatus = new long[3];
    private readonly Int128[] _exposureByStatus = new Int128[3];
    private readonly long[] _accountsByStage = new long[4];
    private readonly Int128[] _exposureByStage = new Int128[4];
    private Int128 _receivables, _deposits, _prepaid;

    /// <summary>Dues by day and the monthly flows.</summary>
    public PortfolioFlows Flows { get; } = new();

    /// <summary>Adds (<paramref name="sign"/> = +1) or removes (−1) one account's share.</summary>
    public void Add(in Account account, int sign)
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
            _deposits += sign * (Int128)lifecycle.DepositMinor;
        }
        Flows.Add(account, sign);
    }

    private static long Clamp(Int128 value) => value > long.MaxValue ? long.MaxValue : value < long.MinValue ? long.MinValue : (long)value;

    public PortfolioView View(long sequence, IReadOnlyList<DelinquentAccountView> largest, int today)
    {
        long[] aging = Flows.Aging(today);
        Int128 pastDue = 0;
        for (int bucket = 1; bucket < aging.Length; bucket++) pastDue += aging[bucket];
        return new PortfolioView(
            sequence,
            Enum.GetValues<AccountStatus>().ToDictionary(s => s, s => new PortfolioGroup(_accountsByStatus[(int)s], Clamp(_exposureByStatus[(int)s]))),
            Enum.GetValues<DelinquencyStage>().ToDictionary(s => s, s => new PortfolioGroup(_accountsByStage[(int)s], Clamp(_exposureByStage[(int)s]))),
            Clamp(_receivables), Clamp(pastDue), Clamp(_deposits), Clamp(_prepaid),
            largest, aging, Flows.Months(today));
    }
}
