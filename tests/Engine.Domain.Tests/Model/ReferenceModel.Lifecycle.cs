namespace Engine.Domain.Tests.Model;

/// <summary>
/// The credit lifecycle of the reference model, written from docs/LIFECYCLE.md and README "Credit lifecycle": dues by UTC
/// day, oldest-first allocation, the cap of open dues at max(posted, 0) (newest shrink first), statements and minimum
/// payments, DUE_SOON, stages and cure, customer funds, test clocks. Engine time is simulated the simple way: at each tick
/// every account is asked for its next date of interest and the earliest one happens (ties in account creation order).
/// </summary>
internal sealed partial class ReferenceModel
{
    private const long DayMs = 86_400_000;

    /// <summary>Delinquency thresholds in days past due; 0 disables one.</summary>
    public sealed record ModelPolicy(int RemindDays, int WatchDays, int FreezeDays, int ChargeOffDays);

    public sealed class ModelDue
    {
        public Int128 Open;
        public bool Reminded;
    }

    public sealed class ModelLifecycle
    {
        public BillingMode Mode;
        public int TermsDays;
        public int StatementDayOfMonth;
        public int GraceDays;
        public Int128 MinimumFloor;
        public int MinimumPercent;
        /// <summary>The per-account override; null: the engine-wide policy.</summary>
        public ModelPolicy? Policy;
        public DelinquencyStage Stage;
        public Int128 Deposit;
        /// <summary>STATEMENT: the engine day of the next closing; null otherwise.</summary>
        public int? NextStatementDay;
        /// <summary>Open dues by due day (days since the epoch, UTC); one per day.</summary>
        public SortedDictionary<int, ModelDue> Dues = [];
    }

    /// <summary>The lifecycle detail an event carries (the fields consumers rebuild receivables from).</summary>
    public sealed record ModelDetail
    {
        public DelinquencyStage StageBefore { get; init; }
        public DelinquencyStage StageAfter { get; init; }
        public int DaysPastDue { get; init; }
        public Int128 PastDue { get; init; }
        public Int128 Deposit { get; init; }
        public Int128 DuesPaid { get; init; }
        public FundsKind Kind { get; init; }
        public Int128 StatementBalance { get; init; }
        public Int128 MinimumPayment { get; init; }
        public long DueAt { get; init; }
        public (long DueAt, Int128 Amount)[] Dues { get; init; } = [];
    }

    private ModelPolicy PolicyOf(ModelAccount a) => a.Life.Policy ?? _limits.Policy;

    /// <summary>Days since the Unix epoch of the UTC day containing <paramref name="unixMs"/> (rounded down, also before 1970).</summary>
    public static int DayOf(long unixMs) => (int)(unixMs / DayMs - (unixMs % DayMs < 0 ? 1 : 0));

    public static long StartOfDay(int day) => day * DayMs;

    /// <summary>The first day after <paramref name="afterDay"/> whose UTC day of month is <paramref name="dayOfMonth"/>.</summary>
    private static int NextDayOfMonth(int afterDay, int dayOfMonth)
    {
        for (int day = afterDay + 1; ; day++)
        {
            if (DateTime.UnixEpoch.AddDays(day).Day == dayOfMonth) return day;
        }
    }

    public static Int128 OpenDues(ModelAccount a)
    {
        Int128 sum = 0;
        foreach (ModelDue due in a.Life.Dues.Values) sum += due.Open;
        return sum;
    }

    /// <summary>Unpaid amount of dues whose day is over: a due is past due from the day after its due day.</summary>
    public static Int128 PastDue(ModelAccount a, int today)
    {
        Int128 sum = 0;
        foreach ((int day, ModelDue due) in a.Life.Dues)
        {
            if (day < today) sum += due.Open;
        }
        return sum;
    }

    public static int DaysPastDue(ModelAccount a, int today)
    {
        int oldest = int.MaxValue;
        foreach (int day in a.Life.Dues.Keys) oldest = Math.Min(oldest, day);
        return oldest < today ? today - oldest : 0;
    }

    private static DelinquencyStage StageFor(ModelPolicy policy, int daysPastDue)
    {
        if (daysPastDue <= 0) return DelinquencyStage.Current;
        if (policy.ChargeOffDays > 0 && daysPastDue >= policy.ChargeOffDays) return DelinquencyStage.ChargedOff;
        if (policy.FreezeDays > 0 && daysPastDue >= policy.FreezeDays) return DelinquencyStage.FrozenDelinquent;
        if (policy.WatchDays > 0 && daysPastDue >= policy.WatchDays) return DelinquencyStage.Watch;
        return DelinquencyStage.Current;
    }

    private static void AddDue(ModelAccount a, int day, Int128 amount)
    {
        if (amount <= 0) return;
        if (a.Life.Dues.TryGetValue(day, out ModelDue? due)) due.Open += amount; // dues of one day merge
        else a.Life.Dues.Add(day, new ModelDue { Open = amount });
    }

    /// <summary>Pays dues oldest day first with up to <paramref name="amount"/>; returns what went to dues.</summary>
    private static Int128 Pay(ModelAccount a, Int128 amount)
    {
        Int128 paid = 0;
        foreach (int day in a.Life.Dues.Keys.ToList())
        {
            if (paid == amount) break;
            ModelDue due = a.Life.Dues[day];
            Int128 part = Int128.Min(due.Open, amount - paid);
            due.Open -= part;
            paid += part;
            if (due.Open == 0) a.Life.Dues.Remove(day);
        }
        return paid;
    }

    /// <summary>
    /// What follows any event on an account: a TERMS posting's due, the cap of open dues at max(posted, 0) (the newest
    /// dues shrink first), and cure (nothing past due: WATCH and FROZEN_DELINQUENT return to CURRENT).
    /// </summary>
    private void Settle(ModelAccount a, EventType type, Int128 amount, long now)
    {
        int today = DayOf(now);
        if (type is EventType.Captured or EventType.ForcePosted && a.Life.Mode == BillingMode.Terms)
            AddDue(a, today + a.Life.TermsDays, amount);
        Int128 excess = OpenDues(a) - Int128.Max(a.Posted, 0);
        foreach (int day in a.Life.Dues.Keys.Reverse().ToList())
        {
            if (excess <= 0) break;
            ModelDue due = a.Life.Dues[day];
            Int128 cut = Int128.Min(excess, due.Open);
            due.Open -= cut;
            excess -= cut;
            if (due.Open == 0) a.Life.Dues.Remove(day);
        }
        if (type != EventType.DelinquencyStageChanged && a.Life.Stage is DelinquencyStage.Watch or DelinquencyStage.FrozenDelinquent && PastDue(a, today) == 0)
            a.Life.Stage = DelinquencyStage.Current;
    }

    private void SetBilling(ModelAccount a, BillingTerms billing, long now)
    {
        ModelLifecycle life = a.Life;
        life.Mode = billing.Mode;
        life.TermsDays = billing.PaymentTermsDays;
        life.StatementDayOfMonth = billing.StatementDay;
        life.GraceDays = billing.GraceDays;
        life.MinimumFloor = billing.MinPaymentFloorMinor;
        life.MinimumPercent = billing.MinPaymentPercent;
        life.NextStatementDay = billing.Mode == BillingMode.Statement ? NextDayOfMonth(DayOf(now), billing.StatementDay) : null;
    }

    private static ModelDetail Plain(ModelAccount a) => new() { StageBefore = a.Life.Stage, StageAfter = a.Life.Stage, Deposit = a.Life.Deposit };

    /// <summary>A payment of <paramref name="amount"/> (posted already lowered): dues oldest first, the cap, cure.</summary>
    private ModelDetail Payment(ModelAccount a, Int128 amount, long now, FundsKind kind = FundsKind.None)
    {
        DelinquencyStage before = a.Life.Stage;
        Int128 paid = Pay(a, amount);
        Settle(a, EventType.Repaid, amount, now);
        return new ModelDetail
        {
            StageBefore = before, StageAfter = a.Life.Stage, PastDue = PastDue(a, DayOf(now)), Deposit = a.Life.Deposit, DuesPaid = paid, Kind = kind,
        };
    }

    // ----- lifecycle commands -----

    private ModelReply SetBillingTerms(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        ModelDetail detail = Plain(a);
        SetBilling(a, c.Billing!, now);
        return Ok(c, now, EventType.BillingTermsSet, a, amount: 0, detail: detail);
    }

    private ModelReply ScheduleDues(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        Int128 total = 0;
        foreach (ScheduledDue item in c.Dues!) total += item.AmountMinor;
        if (total > Int128.Max(a.Posted, 0) - OpenDues(a)) return Decline(c, now, Status.ScheduleExceedsPosted, a);
        ModelDetail detail = Plain(a) with { Dues = [.. c.Dues.Select(d => (d.DueAtUnixMs, (Int128)d.AmountMinor))] };
        foreach (ScheduledDue item in c.Dues) AddDue(a, DayOf(item.DueAtUnixMs), item.AmountMinor);
        return Ok(c, now, EventType.DuesScheduled, a, amount: total, detail: detail);
    }

    private ModelReply SetDelinquencyPolicy(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        a.Life.Policy = c.Policy is { } p ? new ModelPolicy(p.RemindBeforeDueDays, p.WatchAtDays, p.FreezeAtDays, p.ChargeOffAtDays) : null;
        return Ok(c, now, EventType.DelinquencyPolicySet, a, amount: 0, detail: Plain(a));
    }

    private ModelReply TopUp(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        if (c.FundsKind == FundsKind.Deposit)
        {
            if (!Fits(a.Life.Deposit + c.AmountMinor)) return Decline(c, now, Status.ArithmeticOverflow, a);
            a.Life.Deposit += c.AmountMinor;
            return Ok(c, now, EventType.ToppedUp, a, detail: Plain(a) with { Kind = FundsKind.Deposit });
        }
        Int128 postedAfter = a.Posted - c.AmountMinor;
        if (!Representable(a.Limit, a.Temporary, a.Held, postedAfter)) return Decline(c, now, Status.ArithmeticOverflow, a);
        a.Posted = postedAfter;
        return Ok(c, now, EventType.ToppedUp, a, detail: Payment(a, c.AmountMinor, now, FundsKind.Prepaid));
    }

    private ModelReply ReleaseDeposit(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        if (c.AmountMinor > a.Life.Deposit) return Decline(c, now, Status.AmountExceedsDeposit, a);
        a.Life.Deposit -= c.AmountMinor;
        return Ok(c, now, EventType.DepositReleased, a, detail: Plain(a));
    }

    private ModelReply ApplyDeposit(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        if (c.AmountMinor > a.Life.Deposit) return Decline(c, now, Status.AmountExceedsDeposit, a);
        if (c.AmountMinor > Int128.Max(a.Posted, 0)) return Decline(c, now, Status.AmountExceedsOwed, a);
        // Lowering posted raises available: with a huge limit it could leave int64 (docs/LIFECYCLE.md: every new balance is checked).
        if (!Representable(a.Limit, a.Temporary, a.Held, a.Posted - c.AmountMinor)) return Decline(c, now, Status.ArithmeticOverflow, a);
        a.Life.Deposit -= c.AmountMinor;
        a.Posted -= c.AmountMinor;
        return Ok(c, now, EventType.DepositApplied, a, detail: Payment(a, c.AmountMinor, now));
    }

    private ModelReply PayOut(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        if (c.AmountMinor > Int128.Max(-a.Posted, 0)) return Decline(c, now, Status.AmountExceedsCreditBalance, a);
        if (!Representable(a.Limit, a.Temporary, a.Held, a.Posted + c.AmountMinor)) return Decline(c, now, Status.ArithmeticOverflow, a);
        a.Posted += c.AmountMinor;
        return Ok(c, now, EventType.PaidOut, a, detail: Plain(a));
    }

    private ModelReply AdvanceClock(in Command c, long now)
    {
        if (!Fits((Int128)ClockOffsetMs + c.AmountMinor + now)) return Decline(c, now, Status.ArithmeticOverflow, null);
        ModelReply reply = Outcome(c, now, EventType.ClockAdvanced, Status.Ok, null);
        ClockOffsetMs += c.AmountMinor;
        // Everything due in the skipped time happens now, in order, each at its own time.
        PlayLifecycle(now + c.AmountMinor, int.MaxValue);
        return reply;
    }

    // ----- engine time -----

    private enum Occasion { None, Statement, Reminder, Threshold }

    /// <summary>
    /// The account's next date of interest as seen at <paramref name="seenAt"/>: its next statement, the reminder of its
    /// earliest due not reminded and not yet past, the next threshold its oldest due will cross. At equal times a
    /// statement comes first, then a reminder, then a threshold.
    /// </summary>
    private (long At, Occasion What, int DueDay) NextOfInterest(ModelAccount a, long seenAt)
    {
        (long At, Occasion What, int DueDay) next = (long.MaxValue, Occasion.None, 0);
        if (a.State == AccountState.Closed) return next;
        ModelLifecycle life = a.Life;
        if (life.Mode == BillingMode.Statement && life.NextStatementDay is { } statementDay) next = (StartOfDay(statementDay), Occasion.Statement, 0);
        ModelPolicy policy = PolicyOf(a);
        int today = DayOf(seenAt);
        if (policy.RemindDays > 0)
        {
            foreach ((int day, ModelDue due) in life.Dues)
            {
                if (due.Reminded || day < today) continue;
                long at = StartOfDay(day - policy.RemindDays);
                if (at < next.At) next = (at, Occasion.Reminder, day);
                break;
            }
        }
        if (life.Dues.Count > 0)
        {
            int oldest = life.Dues.Keys.Min();
            int? threshold = null;
            foreach (int days in new[] { policy.WatchDays, policy.FreezeDays, policy.ChargeOffDays })
            {
                if (days > 0 && StageFor(policy, days) > life.Stage && (threshold is null || days < threshold)) threshold = days;
            }
            if (threshold is { } crossing && StartOfDay(oldest + crossing) < next.At) next = (StartOfDay(oldest + crossing), Occasion.Threshold, oldest);
        }
        return next;
    }

    /// <summary>For failure messages: the accounts' next dates of interest as the model sees them now, earliest first.</summary>
    public string DescribeAgenda(int countMax = 8) => string.Join("\n    ", _accountsInOrder
        .Select(a => (a, Next: NextOfInterest(a, EngineTime)))
        .Where(x => x.Next.What != Occasion.None)
        .OrderBy(x => x.Next.At).ThenBy(x => x.a.Ordinal)
        .Take(countMax)
        .Select(x => $"{x.a.Id}: {x.Next.What} at {x.Next.At} (day {DayOf(x.Next.At)})"));

    /// <summary>Plays the lifecycle up to <paramref name="now"/>: at most <paramref name="eventsMax"/> events, earliest first.</summary>
    private void PlayLifecycle(long now, int eventsMax)
    {
        for (int emitted = 0; emitted < eventsMax; emitted++)
        {
            ModelAccount? chosen = null;
            (long At, Occasion What, int DueDay) next = (long.MaxValue, Occasion.None, 0);
            foreach (ModelAccount a in _accountsInOrder)
            {
                var candidate = NextOfInterest(a, EngineTime);
                if (candidate.At < next.At) (chosen, next) = (a, candidate);
            }
            if (chosen is null || next.At > now) return;
            // Stamped with its own date of interest, or the last event's time when that is later (engine time is monotonic).
            Happen(chosen, next.What, next.DueDay, Math.Max(next.At, EngineTime));
        }
    }

    private void Happen(ModelAccount a, Occasion what, int dueDay, long t)
    {
        ModelLifecycle life = a.Life;
        int today = DayOf(t);
        ModelDetail detail = Plain(a) with { DaysPastDue = DaysPastDue(a, today), PastDue = PastDue(a, today) };
        EventType type;
        Int128 amount;
        switch (what)
        {
            case Occasion.Statement:
            {
                int statementDay = life.NextStatementDay!.Value;
                Int128 balance = Int128.Max(a.Posted, 0);
                Int128 minimum = balance == 0 ? 0 : Int128.Min(balance, Int128.Max(life.MinimumFloor, balance * life.MinimumPercent / 100));
                // The new due is the minimum, within what the open dues leave of the balance (dues never exceed it).
                Int128 newDue = Int128.Min(minimum, balance - OpenDues(a));
                long dueAt = StartOfDay(statementDay + life.GraceDays);
                detail = detail with
                {
                    StatementBalance = balance,
                    MinimumPayment = Int128.Min(minimum + detail.PastDue, long.MaxValue),
                    DueAt = dueAt,
                    Dues = newDue > 0 ? [(dueAt, newDue)] : [],
                };
                type = EventType.StatementClosed;
                amount = Int128.Max(newDue, 0);
                AddDue(a, statementDay + life.GraceDays, newDue);
                life.NextStatementDay = NextDayOfMonth(statementDay, life.StatementDayOfMonth);
                break;
            }
            case Occasion.Reminder:
            {
                ModelDue due = life.Dues[dueDay];
                type = EventType.DueSoon;
                amount = due.Open;
                detail = detail with { DueAt = StartOfDay(dueDay) };
                due.Reminded = true;
                break;
            }
            default:
            {
                type = EventType.DelinquencyStageChanged;
                amount = detail.PastDue;
                life.Stage = StageFor(PolicyOf(a), detail.DaysPastDue);
                detail = detail with { StageAfter = life.Stage };
                break;
            }
        }
        Sequence++;
        EngineTime = t;
        Settle(a, type, amount, t);
        _events.Add(new ModelEvent(Sequence, type, Status.Ok, CommandType.Tick, a.Id, null, Available(a, t), a.Held, a.Posted, t, amount, detail));
    }
}
