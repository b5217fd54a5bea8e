using Credit.V1;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Desk.Web.Services;

/// <summary>
/// The desk's periodic work, each step idempotent and logged: pending write-backs (retried with backoff until the
/// engine answers), approval deadlines (reminders and escalations, each recorded once), and the nightly rescoring.
/// </summary>
public sealed class DeskJobs(IServiceScopeFactory scopes, WriteBackSignal signal, TimeProvider clock, IOptions<DeskOptions> options, ILogger<DeskJobs> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMilliseconds(options.Value.JobIntervalMs);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await WriteBacksAsync(stoppingToken);
                await DeadlinesAsync(stoppingToken);
                await NightlyScoringAsync(stoppingToken);
                await RemindersAsync(stoppingToken);
                await PromisesAsync(stoppingToken);
                await OutboxAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                log.LogError(e, "desk job round failed; the next round retries");
            }
            try { await signal.WaitAsync(interval, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    private (long Position, int Day) _remindedAt = (-1, -1);

    /// <summary>
    /// Today's reminders (the engine's UTC day) into the outbox, for the projected dues on the dates the rules name;
    /// repeated rounds add nothing (trigger keys), and a round runs only when the engine day or the projection moved.
    /// </summary>
    public async Task<int> RemindersAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        var state = await ProjectionState.ReadAsync(db, ct);
        int day = state.EngineToday(clock);
        if (_remindedAt == (state.Position, day)) return 0;
        var today = DueRules.DateOf(day);
        var policy = await Policies.CollectionsAsync(db, ct);
        var dates = policy.Rules.Select(r => r.When switch { ReminderWhen.BeforeDue => today.AddDays(r.Days), ReminderWhen.AfterDue => today.AddDays(-r.Days), _ => today }).ToList();
        var dues = await scope.ServiceProvider.GetRequiredService<IDueFeed>().OpenDuesAsync(dates, ct);
        int added = dues.Count == 0 ? 0 : (await scope.ServiceProvider.GetRequiredService<ReminderService>().EnqueueAsync(dues, today, ct)).Added;
        _remindedAt = (state.Position, day);
        return added;
    }

    /// <summary>
    /// Promises to pay whose date has passed (engine day) are judged once against the projected payments made after the
    /// promise was recorded: broken raises the case (docs/DESK.md "Collections"), kept is noted; both in the case history.
    /// </summary>
    public async Task<int> PromisesAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        var state = await ProjectionState.ReadAsync(db, ct);
        var today = DueRules.DateOf(state.EngineToday(clock));
        var judged = db.CaseActions.Where(a => a.RefActionId != null).Select(a => a.RefActionId);
        var promises = await db.CaseActions.Where(a => a.Kind == CollectionActionKind.PromiseToPay && a.PromisedDate < today && !judged.Contains(a.Id))
            .OrderBy(a => a.Id).Take(500).ToListAsync(ct);
        int broken = 0;
        foreach (var promise in promises)
        {
            var c = await db.Cases.FirstAsync(x => x.Id == promise.CaseId, ct);
            long after = promise.EngineSequence ?? 0;
            long until = (DueRules.DayOf(promise.PromisedDate!.Value) + 1) * DueRules.DayMs;
            long repaid = await db.Payments.Where(p => p.AccountId == c.AccountId && p.Sequence > after && p.AtUnixMs < until).SumAsync(p => (long?)p.AmountMinor, ct) ?? 0;
            var currency = (await db.EngineAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.AccountId == c.AccountId, ct))?.Currency ?? "CNY";
            var now = clock.GetUtcNow();
            bool isBroken = CollectionRules.IsBroken(promise.PromisedAmountMinor ?? 0, promise.PromisedDate.Value, today, repaid);
            string text = $"promise of {Money.Format(promise.PromisedAmountMinor ?? 0, currency)} by {promise.PromisedDate:yyyy-MM-dd}: {Money.Format(repaid, currency)} paid — " + (isBroken ? "broken" : "kept");
            c.Actions.Add(new CaseActionRecord { Kind = isBroken ? CollectionActionKind.BrokenPromise : CollectionActionKind.Note, By = "system:collections", At = now, Text = text, RefActionId = promise.Id, EngineSequence = state.Position });
            if (isBroken)
            {
                Audit.Record(db, "system:collections", "CollectionCase", c.AccountId, "broken-promise", new { c.Raised }, new { Raised = true, promise = promise.Id, repaidMinor = repaid }, now);
                c.Raised = true;
                broken++;
            }
            c.UpdatedAt = now;
            await db.SaveChangesAsync(ct);
        }
        return broken;
    }

    public async Task<int> OutboxAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<OutboxService>().DeliverDueAsync(100, ct);
    }

    public async Task<int> WriteBacksAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        var service = scope.ServiceProvider.GetRequiredService<ApplicationService>();
        var now = clock.GetUtcNow();
        var due = await db.Applications.Where(a => a.WriteBack == WriteBackState.Pending && (a.WriteBackNextAttemptAt == null || a.WriteBackNextAttemptAt <= now))
            .OrderBy(a => a.Id).Take(100).ToListAsync(ct);
        foreach (var app in due) await service.WriteBackAsync(app, ct);
        return due.Count;
    }

    public async Task<int> DeadlinesAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        var now = clock.GetUtcNow();
        // Candidates by the active step's reminder time (the earlier of its two times); the rule decides what is due.
        var candidates = await db.ApprovalSteps.Where(s => s.Status == StepStatus.Active && (s.RemindedAt == null && s.ReminderAt <= now || s.EscalatedAt == null && s.DueAt <= now))
            .Select(s => s.ApplicationId).Distinct().OrderBy(id => id).Take(500).ToListAsync(ct);
        int raised = 0;
        foreach (long id in candidates)
        {
            var app = await db.Applications.Include(a => a.Steps).FirstAsync(a => a.Id == id, ct);
            foreach (var notice in ApprovalFlow.DueNotices(app, now))
            {
                db.ApprovalNotices.Add(notice);
                Audit.Record(db, "system:deadlines", "Application", app.Id, notice.Kind.ToString().ToLowerInvariant(), null, new { notice.StepIndex, notice.Recipients, notice.Text }, now);
                log.LogInformation("application {Id}: {Kind} to {Recipients}", app.Id, notice.Kind, notice.Recipients);
                raised++;
            }
            await db.SaveChangesAsync(ct);
        }
        return raised;
    }

    /// <summary>Once per UTC day: rescore every customer with the model in force (only changed scores are stored).</summary>
    public async Task NightlyScoringAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        string today = clock.GetUtcNow().ToString("yyyy-MM-dd");
        var mark = await db.Settings.FindAsync(["scoring.nightly"], ct);
        if (mark?.Value == today) return;
        var rescoring = scope.ServiceProvider.GetRequiredService<RescoringService>();
        int changed = 0;
        long lastId = 0;
        while (true)
        {
            var batch = await db.Customers.Include(c => c.Accounts).Where(c => c.Id > lastId).OrderBy(c => c.Id).Take(500).ToListAsync(ct);
            if (batch.Count == 0) break;
            foreach (var c in batch)
            {
                int? before = c.Score;
                string? grade = c.Grade;
                await rescoring.RescoreAsync(c, "nightly", ct);
                if (before != c.Score || grade != c.Grade) changed++;
            }
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            lastId = batch[^1].Id;
        }
        if (mark is null) db.Settings.Add(new DeskSetting { Key = "scoring.nightly", Value = today });
        else { db.Attach(mark); mark.Value = today; }
        await db.SaveChangesAsync(ct);
        log.LogInformation("nightly scoring {Day}: {Changed} scores changed", today, changed);
    }
}

/// <summary>
/// Follows the engine's event stream into the desk's projection: per-account limit, posted, held, volume, and the
/// credit lifecycle (<see cref="LifecycleProjection"/>: dues, past due, stage, freeze, payments, collection cases);
/// customer totals. Exactly-once: the stream position is stored in the same transaction as what the events changed,
/// and each account skips events at or below the sequence it already reflects. When the stream pauses, engine time
/// still passes: dues that fell past due since are counted (<see cref="LifecycleProjection.RollAsync"/>).
/// </summary>
public sealed class EngineFollower(IServiceScopeFactory scopes, EngineGateway engine, TimeProvider clock, ILogger<EngineFollower> log) : BackgroundService
{
    public const string PositionKey = "engine.position";
    private const int BatchEventsMax = 500;
    /// <summary>How often an idle follower counts dues that fell past due by engine time alone.</summary>
    private const int IdleRollIntervalMs = 1000;

    /// <summary>The follower has applied everything the engine had sent when the stream last paused.</summary>
    public bool CaughtUp { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                long position;
                using (var scope = scopes.CreateScope())
                {
                    var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
                    position = long.TryParse((await db.Settings.FindAsync([PositionKey], stoppingToken))?.Value, out long p) ? p : 0;
                }
                var batch = new List<LedgerEvent>();
                await using var stream = engine.Client.SubscribeAsync(position + 1, stoppingToken).GetAsyncEnumerator(stoppingToken);
                var next = stream.MoveNextAsync().AsTask();
                while (true)
                {
                    // Apply what has arrived when the stream pauses or the batch is full; while idle, let engine time count.
                    if (batch.Count >= BatchEventsMax || await Task.WhenAny(next, Task.Delay(batch.Count > 0 ? 100 : IdleRollIntervalMs, stoppingToken)) != next)
                    {
                        if (batch.Count > 0)
                        {
                            await ApplyAsync(batch, stoppingToken);
                            batch.Clear();
                        }
                        if (!next.IsCompleted)
                        {
                            CaughtUp = true;
                            await RollAsync(stoppingToken);
                            continue;
                        }
                    }
                    if (!await next) break;
                    CaughtUp = false;
                    batch.Add(stream.Current);
                    next = stream.MoveNextAsync().AsTask();
                }
                if (batch.Count > 0) await ApplyAsync(batch, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                log.LogWarning("following the engine failed ({Message}); retrying in 2 s", e.Message);
                try { await Task.Delay(2000, stoppingToken); } catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Counts dues past due by engine time now (the stream is idle, so no earlier event is still on its way).</summary>
    public async Task RollAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        var state = await ProjectionState.ReadAsync(db, ct);
        int today = state.EngineToday(clock);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var projection = new LifecycleProjection(db);
        var changed = await projection.RollAsync(today, ct);
        await CustomerTotalsAsync(db, changed.Select(a => a.CustomerId).ToHashSet(), today, ct);
        await DpdAsync(db, today, ct);
        await projection.SaveAsync(ct);
        await tx.CommitAsync(ct);
    }

    public const string DpdDayKey = "engine.dpd-day";

    /// <summary>Once per engine day: every customer's DPD moves on with the day (DPD = today − oldest due day, when past).</summary>
    private static async Task DpdAsync(DeskDb db, int today, CancellationToken ct)
    {
        var mark = await db.Settings.FindAsync([DpdDayKey], ct);
        if (mark?.Value == today.ToString(System.Globalization.CultureInfo.InvariantCulture)) return;
        await db.Customers.Where(c => c.OldestDueDay != null && c.OldestDueDay < today).ExecuteUpdateAsync(u => u.SetProperty(c => c.DpdDays, c => today - c.OldestDueDay!.Value), ct);
        await ProjectionState.WriteAsync(db, DpdDayKey, today, ct);
    }

    public async Task ApplyAsync(IReadOnlyList<LedgerEvent> events, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var state = await ProjectionState.ReadAsync(db, ct);
        long clockOffset = state.ClockOffsetMs, lastEventAt = state.LastEventAtUnixMs;
        var ids = events.Select(e => e.AccountId).Where(a => a.Length > 0).Distinct().ToList();
        var accounts = await db.EngineAccounts.Where(a => ids.Contains(a.AccountId)).ToDictionaryAsync(a => a.AccountId, ct);
        var projection = new LifecycleProjection(db);
        await projection.LoadAsync(accounts.Keys, ct);
        var touched = new HashSet<long>();
        foreach (var e in events)
        {
            lastEventAt = Math.Max(lastEventAt, e.TimestampUnixMs);
            if (e.Type == EventType.ClockAdvanced) { clockOffset += e.Amount; continue; }
            if (!accounts.TryGetValue(e.AccountId, out var account) || e.Sequence <= account.ProjectedSequence || e.Type == EventType.Declined) continue;
            switch (e.Type)
            {
                case EventType.AccountOpened or EventType.LimitChanged: account.LimitMinor = e.Amount; break;
                case EventType.Captured or EventType.ForcePosted: account.VolumeMinor += e.Amount; break;
            }
            await projection.ApplyAsync(account, e, ct);
            account.PostedMinor = e.Posted;
            account.HeldMinor = e.Held;
            account.ProjectedSequence = e.Sequence;
            touched.Add(account.CustomerId);
        }
        int today = DueRules.DayOf(lastEventAt);
        foreach (var a in await projection.RollAsync(today, ct)) touched.Add(a.CustomerId);
        var customers = await CustomerTotalsAsync(db, touched, today, ct);
        // Scores follow the events (utilisation, volume); a downgrade may submit a lower-limit application. All of it
        // commits with the stream position below, so a crash replays the batch and rescoring happens once.
        var rescoring = scope.ServiceProvider.GetRequiredService<RescoringService>();
        foreach (var c in customers) await rescoring.RescoreAsync(c, "engine events", ct);
        await ProjectionState.WriteAsync(db, PositionKey, events[^1].Sequence, ct);
        await ProjectionState.WriteAsync(db, ProjectionState.ClockOffsetKey, clockOffset, ct);
        await ProjectionState.WriteAsync(db, ProjectionState.LastEventAtKey, lastEventAt, ct);
        await projection.SaveAsync(ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Customer totals over their accounts (limit, balances, volume, receivables, past due, oldest due, DPD).</summary>
    private static async Task<List<Customer>> CustomerTotalsAsync(DeskDb db, HashSet<long> customerIds, int today, CancellationToken ct)
    {
        if (customerIds.Count == 0) return [];
        var customers = await db.Customers.Include(c => c.Accounts).Where(c => customerIds.Contains(c.Id)).ToListAsync(ct);
        foreach (var c in customers)
        {
            c.LimitMinor = c.Accounts.Sum(a => a.LimitMinor);
            c.PostedMinor = c.Accounts.Sum(a => a.PostedMinor);
            c.HeldMinor = c.Accounts.Sum(a => a.HeldMinor);
            // Volume since the account opened (a rolling 12-month window would need the postings per month).
            c.Volume12mMinor = c.Accounts.Sum(a => a.VolumeMinor);
            c.UtilisationPct = CustomerService.Utilisation(c.LimitMinor, c.PostedMinor, c.HeldMinor);
            c.ReceivablesMinor = c.Accounts.Sum(a => a.ReceivablesMinor);
            c.PastDueMinor = c.Accounts.Sum(a => a.PastDueMinor);
            c.OldestDueDay = c.Accounts.Where(a => a.OldestDueDay != null).Min(a => a.OldestDueDay);
            c.DpdDays = DueRules.Dpd(c.OldestDueDay, today);
        }
        return customers;
    }
}
