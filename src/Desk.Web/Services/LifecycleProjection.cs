using PortfolioMonth = Desk.Domain.PortfolioMonth;
using Credit.V1;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

/// <summary>
/// Where the projection stands: the last engine sequence applied, the engine's test-clock offset (CLOCK_ADVANCED) and
/// the engine time of the last event — stored as settings in the same transaction as the projection they describe.
/// </summary>
public sealed record ProjectionState(long Position, long ClockOffsetMs, long LastEventAtUnixMs)
{
    public const string ClockOffsetKey = "engine.clock-offset-ms";
    public const string LastEventAtKey = "engine.last-event-at";

    /// <summary>
    /// Engine time now: wall clock plus the engine's clock offset, never before the last event seen. The engine's days
    /// are UTC (docs/LIFECYCLE.md), so "today" on every collections page is this time's UTC day.
    /// </summary>
    public long EngineNowUnixMs(TimeProvider clock) => Math.Max(LastEventAtUnixMs, clock.GetUtcNow().ToUnixTimeMilliseconds() + ClockOffsetMs);

    public int EngineToday(TimeProvider clock) => DueRules.DayOf(EngineNowUnixMs(clock));

    public static async Task<ProjectionState> ReadAsync(DeskDb db, CancellationToken ct = default)
    {
        var keys = new[] { EngineFollower.PositionKey, ClockOffsetKey, LastEventAtKey };
        var rows = await db.Settings.AsNoTracking().Where(s => keys.Contains(s.Key)).ToDictionaryAsync(s => s.Key, s => s.Value, ct);
        long Get(string key) => rows.TryGetValue(key, out var v) && long.TryParse(v, out long n) ? n : 0;
        return new ProjectionState(Get(EngineFollower.PositionKey), Get(ClockOffsetKey), Get(LastEventAtKey));
    }

    public static async Task WriteAsync(DeskDb db, string key, long value, CancellationToken ct)
    {
        var row = await db.Settings.FindAsync([key], ct);
        string text = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (row is null) db.Settings.Add(new DeskSetting { Key = key, Value = text }); else row.Value = text;
    }
}

/// <summary>
/// The engine's credit lifecycle projected into the desk (docs/DESK.md "How it sits beside the engine"), one batch of
/// events inside the follower's transaction: per-account dues (<see cref="DueRules"/>, the engine's own rules), past-due
/// amount, oldest due day (DPD), stage, freeze state, deposit, payments, the portfolio's monthly figures; and the
/// collection cases that follow from them — opened (or reopened) when the stage worsens, a senior-collector task at
/// WATCH, the automatic freeze and the cure mirrored in the history, the case closed on cure. Everything commits with
/// the stream position, and each account skips events at or below its ProjectedSequence, so a crash neither loses nor
/// doubles an event's effects.
/// </summary>
public sealed class LifecycleProjection(DeskDb db)
{
    public const string Actor = "system:engine";
    private readonly Dictionary<string, List<AccountDue>> _dues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CollectionCase> _cases = new(StringComparer.Ordinal);
    private readonly Dictionary<int, PortfolioMonth> _months = [];
    private List<string>? _seniorCollectors;

    /// <summary>Loads the dues and cases of the batch's accounts (one query each).</summary>
    public async Task LoadAsync(IReadOnlyCollection<string> accountIds, CancellationToken ct)
    {
        foreach (var due in await db.Dues.Where(d => accountIds.Contains(d.AccountId)).OrderBy(d => d.DueDay).ToListAsync(ct))
            DuesOf(due.AccountId).Add(due);
        foreach (var c in await db.Cases.Where(c => accountIds.Contains(c.AccountId)).ToListAsync(ct)) _cases[c.AccountId] = c;
    }

    private List<AccountDue> DuesOf(string accountId)
    {
        if (!_dues.TryGetValue(accountId, out var list)) _dues[accountId] = list = [];
        return list;
    }

    private async Task<PortfolioMonth> MonthAsync(int month, CancellationToken ct)
    {
        if (_months.TryGetValue(month, out var m)) return m;
        m = await db.PortfolioMonths.FindAsync([month], ct);
        if (m is null) db.PortfolioMonths.Add(m = new PortfolioMonth { Month = month });
        return _months[month] = m;
    }

    /// <summary>Applies one event of the account (not declined, newer than the account's ProjectedSequence).</summary>
    public async Task ApplyAsync(EngineAccount account, LedgerEvent e, CancellationToken ct)
    {
        int today = DueRules.DayOf(e.TimestampUnixMs);
        var dues = DuesOf(account.AccountId);
        await CountPastDueAsync(dues, today, ct);
        string stageBefore = account.DelinquencyStage;
        var detail = e.Lifecycle;
        switch (e.Type)
        {
            case EventType.AccountOpened or EventType.BillingTermsSet when detail?.Billing is { } billing:
                account.BillingMode = billing.Mode switch { BillingMode.Terms => "TERMS", BillingMode.Statement => "STATEMENT", _ => "NONE" };
                if (billing.Mode == BillingMode.Terms) account.TermsDays = billing.PaymentTermsDays;
                break;
            case EventType.Captured or EventType.ForcePosted when account.BillingMode == "TERMS" && e.Amount > 0:
                await AddDueAsync(account, dues, today + account.TermsDays, e.Amount, ct);
                break;
            case EventType.DuesScheduled or EventType.StatementClosed when detail is not null:
                foreach (var d in detail.Dues) await AddDueAsync(account, dues, DueRules.DayOf(d.DueAtUnixMs), d.Amount, ct);
                break;
            case EventType.DueSoon when detail is not null:
                if (dues.FirstOrDefault(d => d.DueDay == DueRules.DayOf(detail.DueAtUnixMs)) is { } soon) soon.Reminded = true;
                if (_cases.TryGetValue(account.AccountId, out var open) && open.Status == CaseStatus.Open)
                    Record(open, CollectionActionKind.DueSoon, e, $"due {DueRules.DateOf(DueRules.DayOf(detail.DueAtUnixMs)):yyyy-MM-dd}: {Money.Format(e.Amount, account.Currency)} (engine DUE_SOON)");
                break;
            case EventType.Repaid:
                await PaymentAsync(account, dues, e, "REPAID", ct);
                break;
            case EventType.ToppedUp when detail?.FundsKind != FundsKind.Deposit:
                await PaymentAsync(account, dues, e, "TOPPED_UP", ct);
                break;
            case EventType.DepositApplied:
                await PaymentAsync(account, dues, e, "DEPOSIT_APPLIED", ct);
                break;
            case EventType.AccountFrozen:
                account.FrozenManually = true;
                break;
            case EventType.AccountUnfrozen:
                account.FrozenManually = false;
                break;
            case EventType.DelinquencyStageChanged when detail is not null:
                account.DelinquencyStage = StageName(detail.StageAfter);
                break;
        }
        foreach (var gone in DueRules.Shrink(dues, e.Posted)) Forget(gone);
        long pastDue = DueRules.PastDue(dues, today);
        if (e.Type != EventType.DelinquencyStageChanged) account.DelinquencyStage = DueRules.Cured(account.DelinquencyStage, pastDue);
        if (detail is not null) account.DepositMinor = detail.Deposit;
        account.ReceivablesMinor = DueRules.Open(dues);
        account.PastDueMinor = pastDue;
        account.OldestDueDay = dues.Count > 0 ? dues[0].DueDay : null;
        account.LastEventAtUnixMs = e.TimestampUnixMs;
        if (account.DelinquencyStage != stageBefore) await StageChangedAsync(account, stageBefore, e, pastDue, today, ct);
    }

    private async Task AddDueAsync(EngineAccount account, List<AccountDue> dues, int day, long amountMinor, CancellationToken ct)
    {
        var (due, newlyPastDue) = DueRules.Add(dues, account.AccountId, account.CustomerId, day, amountMinor);
        if (due.Id == 0 && db.Entry(due).State == EntityState.Detached) db.Dues.Add(due);
        if (newlyPastDue > 0) (await MonthAsync(DueRules.MonthOf(day + 1), ct)).NewPastDueMinor += newlyPastDue;
    }

    private async Task PaymentAsync(EngineAccount account, List<AccountDue> dues, LedgerEvent e, string kind, CancellationToken ct)
    {
        var (paid, off) = DueRules.Pay(dues, e.Amount);
        foreach (var due in off) Forget(due);
        if (e.Lifecycle is { } detail && detail.DuesPaid != paid && account.BillingMode != "NONE")
            throw new InvalidOperationException($"event {e.Sequence}: the engine paid {detail.DuesPaid} of dues, the projection {paid}; the projection is out of step");
        int month = DueRules.MonthOf(DueRules.DayOf(e.TimestampUnixMs));
        db.Payments.Add(new AccountPayment
        {
            Sequence = e.Sequence, AccountId = account.AccountId, CustomerId = account.CustomerId, AtUnixMs = e.TimestampUnixMs,
            Month = month, Kind = kind, AmountMinor = e.Amount, DuesPaidMinor = paid,
        });
        var m = await MonthAsync(month, ct);
        m.CollectedMinor += e.Amount;
        m.DuesPaidMinor += paid;
    }

    private void Forget(AccountDue due)
    {
        if (db.Entry(due).State == EntityState.Added) db.Entry(due).State = EntityState.Detached; else db.Dues.Remove(due);
    }

    /// <summary>Counts the dues that became past due by <paramref name="today"/> into their month's new past-due amount.</summary>
    private async Task CountPastDueAsync(IEnumerable<AccountDue> dues, int today, CancellationToken ct)
    {
        foreach (var (month, amount) in DueRules.Roll(dues, today)) (await MonthAsync(month, ct)).NewPastDueMinor += amount;
    }

    /// <summary>
    /// Engine time passed <paramref name="today"/>'s start: every due not yet counted that is now past due is counted, and
    /// its account's past-due amount follows. Returns the accounts changed (their customers need new totals).
    /// </summary>
    public async Task<List<EngineAccount>> RollAsync(int today, CancellationToken ct)
    {
        // The dues of this batch's accounts are the in-memory lists (dues added, paid or paid off in the batch are not saved
        // yet, so the database does not have them); every other account's dues are the database's. Reading only the
        // database here once dropped a due added earlier in the same batch from its account's past-due amount.
        var stored = await db.Dues.Where(d => !d.PastDueCounted && d.DueDay < today).OrderBy(d => d.DueDay).Take(100_000).ToListAsync(ct);
        var due = stored.Where(d => !_dues.ContainsKey(d.AccountId))
            .Concat(_dues.Values.SelectMany(list => list).Where(d => !d.PastDueCounted && d.DueDay < today))
            .OrderBy(d => d.DueDay).ToList();
        if (due.Count == 0) return [];
        await CountPastDueAsync(due, today, ct);
        var ids = due.Select(d => d.AccountId).Distinct().ToList();
        var accounts = await db.EngineAccounts.Where(a => ids.Contains(a.AccountId)).ToListAsync(ct);
        var outside = ids.Where(id => !_dues.ContainsKey(id)).ToList();
        var byAccount = (await db.Dues.Where(d => outside.Contains(d.AccountId)).ToListAsync(ct)).GroupBy(d => d.AccountId).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var a in accounts)
            a.PastDueMinor = DueRules.PastDue(_dues.TryGetValue(a.AccountId, out var inBatch) ? inBatch : byAccount.GetValueOrDefault(a.AccountId) ?? [], today);
        return accounts;
    }

    /// <summary>The case follows the stage: worse opens (or reopens) it; WATCH adds a senior-collector task; cure closes it.</summary>
    private async Task StageChangedAsync(EngineAccount account, string before, LedgerEvent e, long pastDue, int today, CancellationToken ct)
    {
        string after = account.DelinquencyStage;
        var at = DateTimeOffset.FromUnixTimeMilliseconds(e.TimestampUnixMs);
        int dpd = e.Lifecycle?.DaysPastDue is > 0 and var d ? d : DueRules.Dpd(account.OldestDueDay, today);
        _cases.TryGetValue(account.AccountId, out var c);
        if (DueRules.Rank(after) > DueRules.Rank(before))
        {
            if (c is null)
            {
                c = new CollectionCase { CustomerId = account.CustomerId, AccountId = account.AccountId, Status = CaseStatus.Open, OpenedAt = at, UpdatedAt = at };
                db.Cases.Add(c);
                _cases[account.AccountId] = c;
                Audit.Record(db, Actor, "CollectionCase", account.AccountId, "open", null, new { stage = after, dpd, pastDueMinor = pastDue, e.Sequence }, at);
            }
            else if (c.Status == CaseStatus.Closed)
            {
                Audit.Record(db, Actor, "CollectionCase", account.AccountId, "reopen", new { c.Status }, new { Status = CaseStatus.Open, stage = after, e.Sequence }, at);
                (c.Status, c.ClosedAt, c.Raised) = (CaseStatus.Open, null, false);
            }
            Record(c, CollectionActionKind.StageChange, e, $"{before} → {after}: DPD {dpd}, past due {Money.Format(pastDue, account.Currency)}");
            if (after == DelinquencyStages.FrozenDelinquent)
                Record(c, CollectionActionKind.Freeze, e, "the engine froze the account for delinquency: new authorizations decline (ACCOUNT_FROZEN)");
            if (after == DelinquencyStages.Watch) await SeniorTaskAsync(c, account, e, dpd, pastDue, ct);
            c.UpdatedAt = at;
            return;
        }
        if (after == DelinquencyStages.Current && c is { Status: CaseStatus.Open })
        {
            Record(c, CollectionActionKind.Cure, e, DueRules.FreezesForDelinquency(before)
                ? $"{before} → CURRENT: everything past due is paid; the engine lifted its delinquency freeze"
                : $"{before} → CURRENT: everything past due is paid");
            Audit.Record(db, Actor, "CollectionCase", account.AccountId, "close", new { Status = CaseStatus.Open }, new { Status = CaseStatus.Closed, reason = "cure", e.Sequence }, at);
            (c.Status, c.ClosedAt, c.UpdatedAt) = (CaseStatus.Closed, at, at);
            if (c.Id != 0)
                foreach (var task in await db.CollectionTasks.Where(t => t.CaseId == c.Id && t.DoneAt == null).ToListAsync(ct)) task.DoneAt = at;
            foreach (var task in db.CollectionTasks.Local.Where(t => t.AccountId == account.AccountId && t.DoneAt == null)) task.DoneAt = at;
            foreach (var (task, _) in _pendingTasks.Where(p => p.Case == c && p.Task.DoneAt == null)) task.DoneAt = at;
        }
    }

    private async Task SeniorTaskAsync(CollectionCase c, EngineAccount account, LedgerEvent e, int dpd, long pastDue, CancellationToken ct)
    {
        _seniorCollectors ??= (await db.Users.AsNoTracking().Where(u => u.Active).ToListAsync(ct))
            .Where(u => u.TitleList.Contains(CollectionTask.SeniorCollectorTitle) && Permissions.Allows(u.RoleList, Permission.CollectionsWork))
            .Select(u => u.UserName).OrderBy(n => n, StringComparer.Ordinal).ToList();
        // The least loaded senior collector (open tasks), else the queue.
        string? assignee = null;
        if (_seniorCollectors.Count > 0)
        {
            var open = await db.CollectionTasks.Where(t => t.DoneAt == null && t.AssignedTo != null && _seniorCollectors.Contains(t.AssignedTo))
                .GroupBy(t => t.AssignedTo!).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
            assignee = _seniorCollectors.OrderBy(n => open.GetValueOrDefault(n) + db.CollectionTasks.Local.Count(t => t.AssignedTo == n && t.DoneAt == null)).First();
        }
        var at = DateTimeOffset.FromUnixTimeMilliseconds(e.TimestampUnixMs);
        string text = $"WATCH at DPD {dpd}: past due {Money.Format(pastDue, account.Currency)} — senior collector to review and call";
        var task = new CollectionTask { AccountId = account.AccountId, TriggerKey = $"watch:{account.AccountId}:{e.Sequence}", AssignedTo = assignee, Text = text, CreatedAt = at };
        if (c.Id != 0) task.CaseId = c.Id;
        db.CollectionTasks.Add(task);
        // The case id is known only after the insert when the case is new: the navigation-free FK is set before saving.
        _pendingTasks.Add((task, c));
        Record(c, CollectionActionKind.SeniorTask, e, assignee is null ? $"task for the {CollectionTask.SeniorCollectorTitle} queue: {text}" : $"task for {assignee}: {text}");
        if (c.AssignedTo is null && assignee is not null) c.AssignedTo = assignee;
        Audit.Record(db, Actor, "CollectionTask", task.TriggerKey, "create", null, new { task.AccountId, task.AssignedTo, task.Queue, task.Text }, at);
    }

    private readonly List<(CollectionTask Task, CollectionCase Case)> _pendingTasks = [];

    /// <summary>Saves; tasks of cases created in this batch get their case id after the case's insert (same transaction).</summary>
    public async Task SaveAsync(CancellationToken ct)
    {
        var waiting = _pendingTasks.Where(p => p.Case.Id == 0).ToList();
        foreach (var (task, _) in waiting) db.Entry(task).State = EntityState.Detached;
        await db.SaveChangesAsync(ct);
        if (waiting.Count == 0) return;
        foreach (var (task, c) in waiting) { task.CaseId = c.Id; db.CollectionTasks.Add(task); }
        await db.SaveChangesAsync(ct);
    }

    private static void Record(CollectionCase c, CollectionActionKind kind, LedgerEvent e, string text) =>
        c.Actions.Add(new CaseActionRecord { Kind = kind, By = Actor, At = DateTimeOffset.FromUnixTimeMilliseconds(e.TimestampUnixMs), Text = text, EngineSequence = e.Sequence });

    public static string StageName(DelinquencyStage stage) => stage switch
    {
        DelinquencyStage.Watch => DelinquencyStages.Watch,
        DelinquencyStage.FrozenDelinquent => DelinquencyStages.FrozenDelinquent,
        DelinquencyStage.ChargedOff => DelinquencyStages.ChargedOff,
        _ => DelinquencyStages.Current,
    };
}
