namespace Desk.Domain;

// Collections (docs/DESK.md "Collections"): the case model and its rules, fed by the engine's delinquency (docs/LIFECYCLE.md)
// through an interface that the engine projection implements once the lifecycle events exist.

/// <summary>The engine's delinquency stages (docs/LIFECYCLE.md), as strings so that a new stage does not break the desk.</summary>
public static class DelinquencyStages
{
    public const string Current = "CURRENT";
    public const string Watch = "WATCH";
    public const string FrozenDelinquent = "FROZEN_DELINQUENT";
    public const string ChargedOff = "CHARGED_OFF";
    public static readonly IReadOnlyList<string> All = [Current, Watch, FrozenDelinquent, ChargedOff];
}

/// <summary>One delinquent account as the worklist shows it: DPD, past-due amount per bucket, stage.</summary>
public sealed record DelinquentAccount(
    long CustomerId, string CustomerName, string AccountId, string Currency, string Stage, int Dpd,
    long PastDueMinor, IReadOnlyDictionary<string, long> PastDueByBucketMinor, string? Owner, string? Region);

/// <summary>
/// What happened on a case. The first six are people's actions; the rest are written by the engine projection and the
/// rules (system:engine, system:collections) so that the case history mirrors the engine's automatic freeze and cure.
/// </summary>
public enum CollectionActionKind { Note, Call, Visit, PromiseToPay, Escalation, Legal, StageChange, Freeze, Cure, DueSoon, BrokenPromise, SeniorTask }

public sealed record CollectionAction(CollectionActionKind Kind, string By, DateTimeOffset At, string Text, long? PromisedAmountMinor = null, DateOnly? PromisedDate = null);

public static class CollectionRules
{
    /// <summary>The aging buckets of docs/LIFECYCLE.md, in order.</summary>
    public static readonly IReadOnlyList<string> Buckets = ["current", "1-30", "31-60", "61-90", "91-180", "180+"];

    /// <summary>The bucket of a due that is <paramref name="dpd"/> days past due (0 or less: current).</summary>
    public static string Bucket(int dpd) => dpd switch
    {
        <= 0 => "current",
        <= 30 => "1-30",
        <= 60 => "31-60",
        <= 90 => "61-90",
        <= 180 => "91-180",
        _ => "180+",
    };

    /// <summary>The worklist order: largest past-due amount first, then highest DPD, then account id (stable).</summary>
    public static IEnumerable<DelinquentAccount> Worklist(IEnumerable<DelinquentAccount> accounts, string? stage = null, string? bucket = null) =>
        accounts.Where(a => a.PastDueMinor > 0 && (stage is null || a.Stage == stage) && (bucket is null || Bucket(a.Dpd) == bucket))
            .OrderByDescending(a => a.PastDueMinor).ThenByDescending(a => a.Dpd).ThenBy(a => a.AccountId, StringComparer.Ordinal);

    /// <summary>
    /// The promises to pay that are broken on <paramref name="today"/>: the promised date has passed and less than the
    /// promised amount was repaid from the promise until the end of that date. A broken promise raises the case.
    /// </summary>
    public static IEnumerable<CollectionAction> BrokenPromises(IEnumerable<CollectionAction> actions, DateOnly today, Func<DateTimeOffset, DateOnly, long> repaidMinorBetween) =>
        actions.Where(a => a.Kind == CollectionActionKind.PromiseToPay && a.PromisedDate is DateOnly d && d < today && a.PromisedAmountMinor is long)
            .Where(a => repaidMinorBetween(a.At, a.PromisedDate!.Value) < a.PromisedAmountMinor!.Value);

    /// <summary>A promise of <paramref name="promisedMinor"/> by <paramref name="promisedDate"/> is broken on <paramref name="today"/> when the date has passed and less was repaid.</summary>
    public static bool IsBroken(long promisedMinor, DateOnly promisedDate, DateOnly today, long repaidMinor) => promisedDate < today && repaidMinor < promisedMinor;

    /// <summary>The kinds people record (the others are written by the engine projection and the rules).</summary>
    public static readonly IReadOnlyList<CollectionActionKind> PeopleKinds =
        [CollectionActionKind.Note, CollectionActionKind.Call, CollectionActionKind.Visit, CollectionActionKind.PromiseToPay, CollectionActionKind.Escalation, CollectionActionKind.Legal];

    /// <summary>Checks an action before it is recorded; null when fine, else "field: problem".</summary>
    public static string? Validate(CollectionAction a, DateOnly today)
    {
        if (!PeopleKinds.Contains(a.Kind)) return $"kind: one of {string.Join(", ", PeopleKinds)}";
        if (string.IsNullOrWhiteSpace(a.Text) && a.Kind != CollectionActionKind.PromiseToPay) return "text: is required";
        if (a.Text.Length > 4000) return "text: at most 4,000 characters";
        if (a.Kind == CollectionActionKind.PromiseToPay)
        {
            if (a.PromisedAmountMinor is not > 0) return "promised_amount: must be > 0";
            if (a.PromisedDate is not DateOnly d) return "promised_date: is required for a promise to pay";
            if (d < today) return "promised_date: must not be in the past";
        }
        return null;
    }
}

public enum CaseStatus { Open, Closed }

/// <summary>A collection case: one per delinquent account, assigned to a collector; its actions are its history.</summary>
public sealed class CollectionCase
{
    public long Id { get; set; }
    public long CustomerId { get; set; }
    public string AccountId { get; set; } = "";
    public string? AssignedTo { get; set; }
    public CaseStatus Status { get; set; }
    /// <summary>Raised by an escalation, a hand-off to legal or a broken promise: shown first to senior collectors.</summary>
    public bool Raised { get; set; }
    public DateTimeOffset OpenedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>When the engine reported the cure (the case closed itself); null while open.</summary>
    public DateTimeOffset? ClosedAt { get; set; }
    public List<CaseActionRecord> Actions { get; set; } = [];
}

/// <summary>
/// A task for a senior collector (docs/DESK.md "Collections": at WATCH), assigned to an active user with the title
/// <see cref="SeniorCollectorTitle"/>, else left in the queue of that name for whoever takes it.
/// </summary>
public sealed class CollectionTask
{
    public const string SeniorCollectorTitle = "senior-collector";
    public long Id { get; set; }
    public long CaseId { get; set; }
    public string AccountId { get; set; } = "";
    /// <summary>What caused it, unique (e.g. "watch:{account}:{sequence}"): a replayed event adds no second task.</summary>
    public string TriggerKey { get; set; } = "";
    public string Queue { get; set; } = SeniorCollectorTitle;
    public string? AssignedTo { get; set; }
    public string Text { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? DoneAt { get; set; }
}

/// <summary>A stored <see cref="CollectionAction"/>.</summary>
public sealed class CaseActionRecord
{
    public long Id { get; set; }
    public long CaseId { get; set; }
    public CollectionActionKind Kind { get; set; }
    public string By { get; set; } = "";
    public DateTimeOffset At { get; set; }
    public string Text { get; set; } = "";
    public long? PromisedAmountMinor { get; set; }
    public DateOnly? PromisedDate { get; set; }
    /// <summary>The engine sequence the action refers to: the event (engine actions) or the projection's position when a person recorded it (promises are judged on payments after it).</summary>
    public long? EngineSequence { get; set; }
    /// <summary>BrokenPromise: the promise it judged (so each promise is judged once).</summary>
    public long? RefActionId { get; set; }
}
