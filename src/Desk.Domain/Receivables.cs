namespace Desk.Domain;

// The desk's projection of the engine's dues (docs/LIFECYCLE.md "Billing", "Payments: allocation"): the same rules the
// engine applies, replayed from its events, so that the worklist, reminders and the cockpit read dues, past-due amounts
// and aging from the desk's own tables. The engine stays the authority: the projection never decides anything the
// engine did not record, it only follows (and the numbers test compares it with the engine's GetPortfolio).

/// <summary>One open due of an engine account, as projected from the events.</summary>
public sealed class AccountDue
{
    public long Id { get; set; }
    public string AccountId { get; set; } = "";
    public long CustomerId { get; set; }
    /// <summary>Engine day (days since the Unix epoch, UTC) on which it is due; past due from the next day.</summary>
    public int DueDay { get; set; }
    public long AmountMinor { get; set; }
    public long PaidMinor { get; set; }
    /// <summary>Its open amount was added to the month's new past-due amount when it became past due (once).</summary>
    public bool PastDueCounted { get; set; }
    /// <summary>The engine recorded DUE_SOON for it.</summary>
    public bool Reminded { get; set; }
    public long OpenMinor => AmountMinor - PaidMinor;
}

/// <summary>A payment the engine recorded (REPAID, prepaid TOPPED_UP, DEPOSIT_APPLIED): cash collected and what it paid of the dues.</summary>
public sealed class AccountPayment
{
    public long Id { get; set; }
    /// <summary>The engine sequence of the event; unique, so a replayed batch cannot add it twice.</summary>
    public long Sequence { get; set; }
    public string AccountId { get; set; } = "";
    public long CustomerId { get; set; }
    public long AtUnixMs { get; set; }
    /// <summary>Engine calendar month of the payment, yyyyMM.</summary>
    public int Month { get; set; }
    /// <summary>"REPAID", "TOPPED_UP" or "DEPOSIT_APPLIED".</summary>
    public string Kind { get; set; } = "";
    public long AmountMinor { get; set; }
    public long DuesPaidMinor { get; set; }
}

/// <summary>Portfolio figures of one engine month, added to as events arrive (never recomputed per view).</summary>
public sealed class PortfolioMonth
{
    /// <summary>yyyyMM.</summary>
    public int Month { get; set; }
    /// <summary>Payments received (cash in): repayments, prepaid top-ups, deposits applied.</summary>
    public long CollectedMinor { get; set; }
    /// <summary>What those payments paid of open dues.</summary>
    public long DuesPaidMinor { get; set; }
    /// <summary>Amounts that became past due in the month: a due's open amount on the day after its due date.</summary>
    public long NewPastDueMinor { get; set; }
}

/// <summary>The engine's due rules (docs/LIFECYCLE.md), on the desk's projected dues of one account, oldest due day first.</summary>
public static class DueRules
{
    public const long DayMs = 86_400_000;

    public static int DayOf(long unixMs) => (int)(unixMs >= 0 ? unixMs / DayMs : (unixMs - DayMs + 1) / DayMs);

    public static DateOnly DateOf(int day) => DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + day);

    public static int DayOf(DateOnly date) => date.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    /// <summary>yyyyMM of an engine day.</summary>
    public static int MonthOf(int day) { var d = DateOf(day); return d.Year * 100 + d.Month; }

    /// <summary>The month <paramref name="months"/> after (or before, negative) <paramref name="month"/> (yyyyMM).</summary>
    public static int AddMonths(int month, int months)
    {
        int index = month / 100 * 12 + month % 100 - 1 + months;
        return index / 12 * 100 + index % 12 + 1;
    }

    /// <summary>
    /// Adds a due, merged into the account's due of the same day (the engine merges them). Returns the due and, when it
    /// merged into one already counted as past due (a plan scheduled into the past), the amount that is newly past due.
    /// </summary>
    public static (AccountDue Due, long NewlyPastDueMinor) Add(List<AccountDue> dues, string accountId, long customerId, int day, long amountMinor)
    {
        var same = dues.FirstOrDefault(d => d.DueDay == day);
        if (same is not null)
        {
            same.AmountMinor = checked(same.AmountMinor + amountMinor);
            return (same, same.PastDueCounted ? amountMinor : 0);
        }
        var due = new AccountDue { AccountId = accountId, CustomerId = customerId, DueDay = day, AmountMinor = amountMinor };
        int at = dues.FindIndex(d => d.DueDay > day);
        if (at < 0) dues.Add(due); else dues.Insert(at, due);
        return (due, 0);
    }

    /// <summary>Pays dues oldest first with <paramref name="amountMinor"/>; returns what it paid and the dues it paid off (to delete).</summary>
    public static (long PaidMinor, List<AccountDue> PaidOff) Pay(List<AccountDue> dues, long amountMinor)
    {
        long left = amountMinor, paid = 0;
        var off = new List<AccountDue>();
        foreach (var due in dues)
        {
            if (left <= 0) break;
            long pay = Math.Min(left, due.OpenMinor);
            due.PaidMinor += pay;
            left -= pay;
            paid += pay;
            if (due.OpenMinor == 0) off.Add(due);
        }
        dues.RemoveAll(off.Contains);
        return (paid, off);
    }

    /// <summary>The sum of open dues never exceeds max(posted, 0): the newest dues shrink first. Returns the dues shrunk to nothing.</summary>
    public static List<AccountDue> Shrink(List<AccountDue> dues, long postedMinor)
    {
        long excess = Open(dues) - Math.Max(postedMinor, 0);
        var gone = new List<AccountDue>();
        for (int i = dues.Count - 1; i >= 0 && excess > 0; i--)
        {
            var newest = dues[i];
            long cut = Math.Min(excess, newest.OpenMinor);
            newest.AmountMinor -= cut;
            excess -= cut;
            if (newest.OpenMinor == 0) gone.Add(newest);
        }
        dues.RemoveAll(gone.Contains);
        return gone;
    }

    /// <summary>
    /// Marks the dues that are past due on <paramref name="today"/> and were not yet counted; returns (month, amount) of
    /// each: the month of the day after its due date and its open amount then. Any change to a due arrives as an event
    /// on its account, which rolls first, so the open amount of an uncounted due is what it was on that day.
    /// </summary>
    public static List<(int Month, long AmountMinor)> Roll(IEnumerable<AccountDue> dues, int today)
    {
        var became = new List<(int, long)>();
        foreach (var due in dues)
        {
            if (due.PastDueCounted || due.DueDay >= today) continue;
            due.PastDueCounted = true;
            if (due.OpenMinor > 0) became.Add((MonthOf(due.DueDay + 1), due.OpenMinor));
        }
        return became;
    }

    public static long Open(IEnumerable<AccountDue> dues) => dues.Sum(d => d.OpenMinor);

    /// <summary>Unpaid amount of dues whose day is before <paramref name="today"/>.</summary>
    public static long PastDue(IEnumerable<AccountDue> dues, int today) => dues.Where(d => d.DueDay < today).Sum(d => d.OpenMinor);

    /// <summary>Days past due: whole days since the oldest unpaid due's day, 0 if none is past due.</summary>
    public static int Dpd(int? oldestDueDay, int today) => oldestDueDay is int day && day < today ? today - day : 0;

    /// <summary>Cure (docs/LIFECYCLE.md): with nothing past due, WATCH and FROZEN_DELINQUENT return to CURRENT; CHARGED_OFF stays.</summary>
    public static string Cured(string stage, long pastDueMinor) =>
        pastDueMinor == 0 && stage is DelinquencyStages.Watch or DelinquencyStages.FrozenDelinquent ? DelinquencyStages.Current : stage;

    /// <summary>The stage freezes the account for delinquency (lifted by cure, except CHARGED_OFF).</summary>
    public static bool FreezesForDelinquency(string stage) => stage is DelinquencyStages.FrozenDelinquent or DelinquencyStages.ChargedOff;

    /// <summary>A stage's rank, for "worse than": CURRENT 0, WATCH 1, FROZEN_DELINQUENT 2, CHARGED_OFF 3.</summary>
    public static int Rank(string stage) => stage switch
    {
        DelinquencyStages.Watch => 1,
        DelinquencyStages.FrozenDelinquent => 2,
        DelinquencyStages.ChargedOff => 3,
        _ => 0,
    };

    /// <summary>The aging bucket of an open due on <paramref name="today"/> by its own age (docs/LIFECYCLE.md).</summary>
    public static string Bucket(int dueDay, int today) => CollectionRules.Bucket(today - dueDay);

    /// <summary>
    /// The engine-day range [from, to] of dues in a bucket on <paramref name="today"/>: current = due today or later;
    /// 1-30 = due 1..30 days ago, and so on; 180+ = more than 180 days ago.
    /// </summary>
    public static (int FromDay, int ToDay) BucketDays(string bucket, int today) => bucket switch
    {
        "current" => (today, int.MaxValue),
        "1-30" => (today - 30, today - 1),
        "31-60" => (today - 60, today - 31),
        "61-90" => (today - 90, today - 61),
        "91-180" => (today - 180, today - 91),
        "180+" => (int.MinValue, today - 181),
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "not an aging bucket"),
    };
}
