using Engine.Domain;

namespace Engine.ReadModel;

/// <summary>One open due as a query sees it.</summary>
public sealed record DueView(long DueAtUnixMs, long AmountMinor, long PaidMinor);

/// <summary>
/// The credit lifecycle of an account at engine time <see cref="AsOfUnixMs"/> (docs/LIFECYCLE.md "What queries must show"):
/// billing, dues, days past due, past-due amount per aging bucket, stage, manual vs delinquency freeze, deposit, last statement.
/// </summary>
public sealed record LifecycleView(
    BillingTerms Billing,
    DelinquencyPolicy Policy,
    DelinquencyStage Stage,
    bool FrozenManually,
    bool FrozenForDelinquency,
    long DepositMinor,
    IReadOnlyList<DueView> Dues,
    int DaysPastDue,
    long PastDueMinor,
    /// <summary>Unpaid amounts by each due's age: current (not yet past due), 1–30, 31–60, 61–90, 91–180, 180+ days.</summary>
    IReadOnlyList<long> AgingMinor,
    StatementSummary? LastStatement,
    long AsOfUnixMs)
{
    public static readonly string[] BucketNames = ["current", "1-30", "31-60", "61-90", "91-180", "180+"];

    /// <summary>The aging bucket of a due <paramref name="daysPastDue"/> days past due (0 = not yet due).</summary>
    public static int BucketOf(int daysPastDue) => daysPastDue switch
    {
        <= 0 => 0,
        <= 30 => 1,
        <= 60 => 2,
        <= 90 => 3,
        <= 180 => 4,
        _ => 5,
    };

    /// <summary>Null for an account without lifecycle state (it has no billing, dues, policy override or deposit).</summary>
    public static LifecycleView? Of(in Account account, DelinquencyPolicy engineDefault, long nowUnixMs)
    {
        if (account.Lifecycle is not { } lifecycle) return null;
        int today = EngineDays.DayOf(nowUnixMs);
        var aging = new long[BucketNames.Length];
        var dues = new List<DueView>(lifecycle.Dues.Count);
        foreach (Due due in lifecycle.Dues)
        {
            dues.Add(new DueView(EngineDays.StartOf(due.DueDay), due.AmountMinor, due.PaidMinor));
            aging[BucketOf(today - due.DueDay)] += due.OpenMinor;
        }
        return new LifecycleView(
            lifecycle.Billing,
            lifecycle.Policy ?? engineDefault,
            lifecycle.Stage,
            FrozenManually: account.Status == AccountStatus.Frozen,
            FrozenForDelinquency: lifecycle.Stage >= DelinquencyStage.FrozenDelinquent,
            lifecycle.DepositMinor,
            dues,
            lifecycle.DaysPastDue(today),
            lifecycle.PastDueMinor(today),
            aging,
            lifecycle.LastStatement,
            nowUnixMs);
    }
}
