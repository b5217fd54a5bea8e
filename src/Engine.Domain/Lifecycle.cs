namespace Engine.Domain;

/// <summary>How an account's postings become dues (docs/LIFECYCLE.md "Billing"). Numeric values are part of the journal format.</summary>
public enum BillingMode : byte
{
    /// <summary>No dues: docs/SPEC.md behaviour only.</summary>
    None = 0,
    /// <summary>Trade credit: each capture or force post is due <c>payment_terms_days</c> after its engine day.</summary>
    Terms = 1,
    /// <summary>Cards: on <c>statement_day</c> the cycle closes and the minimum payment becomes a due.</summary>
    Statement = 2,
}

/// <summary>Delinquency stage of an account. Numeric values are part of the journal format; order is severity.</summary>
public enum DelinquencyStage : byte
{
    Current = 0,
    /// <summary>"Overdue observation": DPD reached <c>watch_at_days</c>.</summary>
    Watch = 1,
    /// <summary>DPD reached <c>freeze_at_days</c>: authorizations decline with <see cref="Status.AccountFrozen"/> until cure.</summary>
    FrozenDelinquent = 2,
    /// <summary>DPD reached <c>charge_off_at_days</c>: authorizations decline; repayments still post; no cure by itself.</summary>
    ChargedOff = 3,
}

/// <summary>What a <c>TopUp</c> brings in. Numeric values are part of the journal format.</summary>
public enum FundsKind : byte
{
    None = 0,
    /// <summary>Spendable money: lowers <c>posted</c> and pays past-due dues first.</summary>
    Prepaid = 1,
    /// <summary>Security held by the issuer: raises <c>deposit</c>, never spendable.</summary>
    Deposit = 2,
}

/// <summary>Billing settings of an account (OpenAccount, SetBillingTerms).</summary>
public sealed record BillingTerms
{
    public const int StatementDayMax = 28;
    public const int DaysMax = 3660;
    public const long DefaultMinPaymentFloorMinor = 1_000;
    public const int DefaultMinPaymentPercent = 5;
    public const int DefaultGraceDays = 25;

    public BillingMode Mode { get; init; }
    /// <summary>TERMS: days from the posting's engine day to its due day (e.g. 30 for net 30).</summary>
    public int PaymentTermsDays { get; init; }
    /// <summary>STATEMENT: day of month 1–28 on which the cycle closes.</summary>
    public int StatementDay { get; init; }
    /// <summary>STATEMENT: days from the statement date to the minimum payment's due date.</summary>
    public int GraceDays { get; init; } = DefaultGraceDays;
    public long MinPaymentFloorMinor { get; init; } = DefaultMinPaymentFloorMinor;
    public int MinPaymentPercent { get; init; } = DefaultMinPaymentPercent;

    public static readonly BillingTerms None = new();

    /// <summary>Minimum payment of a statement: max(floor, balance × percent / 100), capped at the balance.</summary>
    public long MinimumPayment(long statementBalanceMinor)
    {
        if (statementBalanceMinor <= 0) return 0;
        Int128 byPercent = (Int128)statementBalanceMinor * MinPaymentPercent / 100;
        Int128 minimum = byPercent > MinPaymentFloorMinor ? byPercent : MinPaymentFloorMinor;
        return (long)(minimum < statementBalanceMinor ? minimum : statementBalanceMinor);
    }
}

/// <summary>Delinquency thresholds in days past due; 0 disables a threshold (docs/LIFECYCLE.md "Delinquency").</summary>
public sealed record DelinquencyPolicy
{
    public const int DaysMax = 3660;
    public int RemindBeforeDueDays { get; init; } = 3;
    public int WatchAtDays { get; init; } = 15;
    public int FreezeAtDays { get; init; } = 30;
    public int ChargeOffAtDays { get; init; } = 180;

    public static readonly DelinquencyPolicy Default = new();

    /// <summary>The stage an account with <paramref name="daysPastDue"/> has reached under this policy.</summary>
    public DelinquencyStage StageFor(int daysPastDue)
    {
        if (daysPastDue <= 0) return DelinquencyStage.Current;
        if (ChargeOffAtDays > 0 && daysPastDue >= ChargeOffAtDays) return DelinquencyStage.ChargedOff;
        if (FreezeAtDays > 0 && daysPastDue >= FreezeAtDays) return DelinquencyStage.FrozenDelinquent;
        if (WatchAtDays > 0 && daysPastDue >= WatchAtDays) return DelinquencyStage.Watch;
        return DelinquencyStage.Current;
    }

    /// <summary>The smallest DPD at which the stage would rise above <paramref name="stage"/>, or -1 when none.</summary>
    public int NextThresholdAbove(DelinquencyStage stage)
    {
        int best = -1;
        Consider(WatchAtDays);
        Consider(FreezeAtDays);
        Consider(ChargeOffAtDays);
        return best;

        void Consider(int days)
        {
            if (days > 0 && StageFor(days) > stage && (best < 0 || days < best)) best = days;
        }
    }
}

/// <summary>One item of a receivable plan (ScheduleDues) or a due created by a statement.</summary>
public readonly record struct ScheduledDue(long DueAtUnixMs, long AmountMinor);

/// <summary>An open due: an amount owed by a UTC day of engine time (24 bytes: the longs first, so no padding between).</summary>
public struct Due
{
    public long AmountMinor;
    public long PaidMinor;
    /// <summary>Engine day (days since the Unix epoch, UTC) on which it is due; past due from the next day.</summary>
    public int DueDay;
    /// <summary>The DUE_SOON reminder for this due was recorded.</summary>
    public bool Reminded;
    public readonly long OpenMinor => AmountMinor - PaidMinor;
}

/// <summary>
/// The open dues of one account, in day order: the first kept inline in its <see cref="AccountLifecycle"/>, the rest in an
/// array allocated when a second due opens. Most TERMS accounts have one open due (postings of one day merge), so a
/// capture or repayment on them reads no list object and no array: two dependent cache misses fewer per posting at 1M
/// accounts (bench/RESULTS.md "Dues inline"). A mutable struct: use it through the field (<c>ref</c>), never a copy.
/// </summary>
public struct DueList : IEnumerable<Due>
{
    private Due _first;
    private Due[]? _rest;
    private int _count;

    public readonly int Count => _count;

    public Due this[int index]
    {
        readonly get
        {
            if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
            return Get(index);
        }
        set
        {
            if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
            Set(index, value);
        }
    }

    private void Set(int index, in Due due)
    {
        if (index == 0) _first = due;
        else _rest![index - 1] = due;
    }

    private readonly Due Get(int index) => index == 0 ? _first : _rest![index - 1];

    public void Add(in Due due) => Insert(_count, due);

    public void Insert(int index, in Due due)
    {
        if ((uint)index > (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
        if (_count >= 1 && (_rest is null || _rest.Length < _count))
            Array.Resize(ref _rest, Math.Max(4, _count * 2));
        for (int i = _count; i > index; i--) Set(i, Get(i - 1));
        Set(index, due);
        _count++;
    }

    public void RemoveAt(int index) => RemoveRange(index, 1);

    public void RemoveRange(int index, int count)
    {
        if (index < 0 || count < 0 || index + count > _count) throw new ArgumentOutOfRangeException(nameof(count));
        if (count == 0) return;
        for (int i = index; i + count < _count; i++) Set(i, Get(i + count));
        _count -= count;
        // Clear what moved out, so a stale due can never be read back through Get.
        for (int i = _count; i < _count + count; i++) Set(i, default);
    }

    /// <summary>A copy that shares no array with this one.</summary>
    public readonly DueList Clone() => new() { _first = _first, _rest = (Due[]?)_rest?.Clone(), _count = _count };

    public readonly Enumerator GetEnumerator() => new(this);
    readonly IEnumerator<Due> IEnumerable<Due>.GetEnumerator() => GetEnumerator();
    readonly System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Enumerates the list as it is; the list must not change during the enumeration (nothing checks it).</summary>
    public struct Enumerator(DueList list) : IEnumerator<Due>
    {
        private readonly DueList _list = list;
        private int _index = -1;
        public readonly Due Current => _list.Get(_index);
        readonly object System.Collections.IEnumerator.Current => Current;
        public bool MoveNext() => ++_index < _list._count;
        public void Reset() => _index = -1;
        public readonly void Dispose() { }
    }
}

/// <summary>The last closed statement of a STATEMENT account.</summary>
public readonly record struct StatementSummary(long ClosedAtUnixMs, long BalanceMinor, long MinimumPaymentMinor, long DueAtUnixMs);

/// <summary>
/// Lifecycle state of one account; null on accounts that never used billing, dues, a policy override or a deposit, so
/// docs/SPEC.md-only accounts pay 8 bytes for it. Mutated by the ledger's Apply only.
/// </summary>
public sealed class AccountLifecycle
{
    private BillingTerms _billing = BillingTerms.None;

    public BillingTerms Billing
    {
        get => _billing;
        set
        {
            _billing = value;
            Mode = value.Mode;
            PaymentTermsDays = value.PaymentTermsDays;
        }
    }

    /// <summary><see cref="Billing"/>'s mode and terms, kept beside the dues: a capture reads no settings object (over gRPC,
    /// every account has its own).</summary>
    public BillingMode Mode { get; private set; }
    public int PaymentTermsDays { get; private set; }
    /// <summary>Per-account override of <see cref="LedgerOptions.DelinquencyPolicy"/>; null = engine default.</summary>
    public DelinquencyPolicy? Policy;
    public DelinquencyStage Stage;
    public long DepositMinor;
    /// <summary>STATEMENT: when the current cycle closes (0 when not in STATEMENT mode).</summary>
    public long NextStatementAtUnixMs;
    public StatementSummary? LastStatement;
    /// <summary>Open dues, ordered by due day; at most one per day (dues of one day merge). A struct: mutate it in place.</summary>
    public DueList Dues;
    /// <summary>The time of this account's live timer entry (long.MaxValue: none); at or before its next date of interest.</summary>
    public long NextAtUnixMs = long.MaxValue;

    public long OpenDuesMinor
    {
        get
        {
            long sum = 0;
            foreach (Due due in Dues) sum += due.OpenMinor;
            return sum;
        }
    }

    /// <summary>Unpaid amount of dues whose day is before <paramref name="today"/>.</summary>
    public long PastDueMinor(int today)
    {
        long sum = 0;
        foreach (Due due in Dues)
        {
            if (due.DueDay >= today) break;
            sum += due.OpenMinor;
        }
        return sum;
    }

    /// <summary>Whole days since the oldest unpaid due's day; 0 if none is past due.</summary>
    public int DaysPastDue(int today) => Dues.Count > 0 && Dues[0].DueDay < today ? today - Dues[0].DueDay : 0;

    public AccountLifecycle Clone()
    {
        var copy = new AccountLifecycle
        {
            Billing = Billing, Policy = Policy, Stage = Stage, DepositMinor = DepositMinor,
            NextStatementAtUnixMs = NextStatementAtUnixMs, LastStatement = LastStatement, NextAtUnixMs = NextAtUnixMs,
        };
        copy.Dues = Dues.Clone();
        return copy;
    }
}

/// <summary>
/// Lifecycle detail of an event (null on events that carry none). Encoded after the docs/SPEC.md fields, so logs written
/// before it decode unchanged. A value carried inside <see cref="LedgerEvent"/>, not an object: the lifecycle's own events
/// (reminders, stage changes) and every payment on a billed account allocate nothing for it, on the decide thread and in
/// every read model that decodes it (bench/RESULTS.md "A month of lifecycle ticks": a record per event filled gen0 and
/// the collections of a 1M-account heap landed in ticks).
/// </summary>
public readonly record struct LifecycleDetail
{
    private readonly ScheduledDue[]? _dues;

    /// <summary>AccountOpened / BillingTermsSet: the billing settings.</summary>
    public BillingTerms? Billing { get; init; }
    /// <summary>DelinquencyPolicySet: the override (null inside a detail: back to the engine default).</summary>
    public DelinquencyPolicy? Policy { get; init; }
    /// <summary>DuesScheduled: the plan; StatementClosed: the due it created (empty when none).</summary>
    public ScheduledDue[] Dues { get => _dues ?? []; init => _dues = value; }
    public FundsKind FundsKind { get; init; }
    /// <summary>The account's deposit after the event.</summary>
    public long DepositMinor { get; init; }
    /// <summary>How much of the event's amount paid dues (Repaid, ToppedUp PREPAID, DepositApplied).</summary>
    public long DuesPaidMinor { get; init; }
    public DelinquencyStage StageBefore { get; init; }
    public DelinquencyStage StageAfter { get; init; }
    public int DaysPastDue { get; init; }
    public long PastDueMinor { get; init; }
    /// <summary>StatementClosed: statement balance; DueSoon: amount still open on the due.</summary>
    public long StatementBalanceMinor { get; init; }
    /// <summary>StatementClosed: minimum payment (new minimum plus past-due carried over).</summary>
    public long MinimumPaymentMinor { get; init; }
    /// <summary>StatementClosed / DueSoon: the due date (start of the due day, UTC).</summary>
    public long DueAtUnixMs { get; init; }
}
