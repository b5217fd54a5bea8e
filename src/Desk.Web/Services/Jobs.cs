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

    /// <summary>Today's reminders (the engine's UTC day) into the outbox; repeated rounds add nothing (trigger keys).</summary>
    public async Task<int> RemindersAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var dues = await scope.ServiceProvider.GetRequiredService<IDueFeed>().OpenDuesAsync(today.AddDays(-400), today.AddDays(400), ct);
        if (dues.Count == 0) return 0;
        return (await scope.ServiceProvider.GetRequiredService<ReminderService>().EnqueueAsync(dues, today, ct)).Added;
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
/// Follows the engine's event stream into the desk's projection (per-account limit, posted, held, volume; customer
/// totals). Exactly-once: the stream position is stored in the same transaction as what the events changed, and each
/// account skips events at or below the sequence it already reflects.
/// </summary>
public sealed class EngineFollower(IServiceScopeFactory scopes, EngineGateway engine, ILogger<EngineFollower> log) : BackgroundService
{
    public const string PositionKey = "engine.position";
    private const int BatchEventsMax = 500;

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
                while (true)
                {
                    // Apply what has arrived when the stream pauses or the batch is full.
                    var next = stream.MoveNextAsync().AsTask();
                    if (batch.Count > 0 && (batch.Count >= BatchEventsMax || await Task.WhenAny(next, Task.Delay(100, stoppingToken)) != next))
                    {
                        await ApplyAsync(batch, stoppingToken);
                        batch.Clear();
                    }
                    if (!await next) break;
                    batch.Add(stream.Current);
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

    public async Task ApplyAsync(IReadOnlyList<LedgerEvent> events, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var ids = events.Select(e => e.AccountId).Where(a => a.Length > 0).Distinct().ToList();
        var accounts = await db.EngineAccounts.Where(a => ids.Contains(a.AccountId)).ToDictionaryAsync(a => a.AccountId, ct);
        var touched = new HashSet<long>();
        foreach (var e in events)
        {
            if (!accounts.TryGetValue(e.AccountId, out var account) || e.Sequence <= account.ProjectedSequence || e.Type == EventType.Declined) continue;
            switch (e.Type)
            {
                case EventType.AccountOpened or EventType.LimitChanged: account.LimitMinor = e.Amount; break;
                case EventType.Captured or EventType.ForcePosted: account.VolumeMinor += e.Amount; break;
            }
            account.PostedMinor = e.Posted;
            account.HeldMinor = e.Held;
            account.ProjectedSequence = e.Sequence;
            touched.Add(account.CustomerId);
        }
        if (touched.Count > 0)
        {
            var customers = await db.Customers.Include(c => c.Accounts).Where(c => touched.Contains(c.Id)).ToListAsync(ct);
            foreach (var c in customers)
            {
                c.LimitMinor = c.Accounts.Sum(a => a.LimitMinor);
                c.PostedMinor = c.Accounts.Sum(a => a.PostedMinor);
                c.HeldMinor = c.Accounts.Sum(a => a.HeldMinor);
                // Volume since the account opened; a rolling 12-month window needs the statement history of issue 16.
                c.Volume12mMinor = c.Accounts.Sum(a => a.VolumeMinor);
                c.UtilisationPct = CustomerService.Utilisation(c.LimitMinor, c.PostedMinor, c.HeldMinor);
            }
            // Scores follow the events (utilisation, volume); a downgrade may submit a lower-limit application. All of it
            // commits with the stream position below, so a crash replays the batch and rescoring happens once.
            var rescoring = scope.ServiceProvider.GetRequiredService<RescoringService>();
            foreach (var c in customers) await rescoring.RescoreAsync(c, "engine events", ct);
        }
        var position = await db.Settings.FindAsync([PositionKey], ct);
        string value = events[^1].Sequence.ToString();
        if (position is null) db.Settings.Add(new DeskSetting { Key = PositionKey, Value = value }); else position.Value = value;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }
}
