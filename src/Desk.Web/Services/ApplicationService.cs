using System.Security.Claims;
using Credit.V1;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Desk.Web.Services;

public sealed record SubmitRequest(long CustomerId, ApplicationKind Kind, long AmountMinor, DateTimeOffset? TemporaryExpiresAt, int? TermsDays, string Reason);

/// <summary>Credit applications: submission (score, suggestion, route), decisions, and the engine write-back.</summary>
public sealed class ApplicationService(DeskDb db, CustomerService customers, ScoringService scoring, EngineGateway engine, TimeProvider clock,
    WorkingCalendar calendar, WriteBackSignal signal, DeskIdentity identity, IOptions<DeskOptions> options, ILogger<ApplicationService> log)
{
    public async Task<(CreditApplication? App, string? Error)> SubmitAsync(ClaimsPrincipal user, SubmitRequest r)
    {
        if (!user.Can(Permission.ApplicationsSubmit)) return (null, "forbidden: your roles may not submit applications");
        var customer = await customers.Visible(user).Include(c => c.Accounts).FirstOrDefaultAsync(c => c.Id == r.CustomerId);
        if (customer is null) return (null, "customer_id: no such customer (or not yours)");
        return await SubmitForAsync(customer, r, user.Name(), user.AuditName());
    }

    /// <summary>Submits for a customer already loaded with its accounts; also used by rules (<c>system:…</c> submitters).</summary>
    public async Task<(CreditApplication? App, string? Error)> SubmitForAsync(Customer customer, SubmitRequest r, string submittedBy, string auditActor)
    {
        if (string.IsNullOrWhiteSpace(r.Reason)) return (null, "reason: is required");
        if (r.Reason.Length > 4000) return (null, "reason: at most 4,000 characters");
        var now = clock.GetUtcNow();
        EngineAccount? account = customer.Accounts.OrderBy(a => a.Id).FirstOrDefault();
        switch (r.Kind)
        {
            case ApplicationKind.NewLimit or ApplicationKind.LimitChange:
                if (r.AmountMinor < 0) return (null, "amount: must be >= 0");
                break;
            case ApplicationKind.TemporaryLimit:
                if (r.AmountMinor <= 0) return (null, "amount: a temporary limit must be > 0");
                if (r.TemporaryExpiresAt is null || r.TemporaryExpiresAt <= now) return (null, "temporary_expires_at: must be in the future");
                break;
            case ApplicationKind.PaymentTerms:
                if (r.TermsDays is null or < 0 or > 365) return (null, "terms_days: 0..365");
                break;
        }
        if (account is null && r.Kind != ApplicationKind.NewLimit) return (null, "kind: the customer has no engine account yet; apply for a new limit");

        ScoreResult score = await scoring.ScoreAsync(customer, "application", "system:scoring", save: false);
        var app = new CreditApplication
        {
            CustomerId = customer.Id,
            AccountId = account?.AccountId ?? RequestIds.MainAccountId(customer.Uscc),
            Currency = customer.Currency,
            Kind = r.Kind,
            AmountMinor = r.Kind == ApplicationKind.PaymentTerms ? 0 : r.AmountMinor,
            TemporaryExpiresAt = r.TemporaryExpiresAt,
            TermsDays = r.TermsDays,
            Reason = r.Reason.Trim(),
            SubmittedBy = submittedBy,
            SubmittedAt = now,
            Score = score.Score, Grade = score.Grade, ScoringModelVersion = score.ModelVersion,
            SuggestedLimitMinor = score.SuggestedLimitMinor, SuggestedTermsDays = score.SuggestedTermsDays,
            CurrentLimitMinor = account?.LimitMinor ?? 0,
        };
        var (_, policy) = await Policies.RoutesAsync(db);
        long routingAmount = r.Kind == ApplicationKind.PaymentTerms ? app.CurrentLimitMinor : app.AmountMinor;
        RouteDefinition route;
        IReadOnlyList<StepDefinition> steps;
        try { (route, steps) = policy.Resolve(new RoutingInput(routingAmount, score.Grade, null, customer.Type, r.Kind)); }
        catch (InvalidOperationException e) { return (null, "route: " + e.Message); }
        ApprovalFlow.Start(app, route, steps, now, calendar);
        if (customer.Stage is LifecycleStage.Lead or LifecycleStage.Prospect or LifecycleStage.DueDiligence) customer.Stage = LifecycleStage.InApproval;
        db.Applications.Add(app);
        await db.SaveChangesAsync();
        Audit.Record(db, auditActor, "Application", app.Id, "submit", null,
            new { app.CustomerId, app.Kind, amount = Money.Format(app.AmountMinor, app.Currency), app.TemporaryExpiresAt, app.TermsDays, app.Reason, app.RouteName, steps = steps.Select(s => s.Name) }, now);
        if (app.Cc.Length > 0)
            db.ApprovalNotices.Add(new ApprovalNotice { ApplicationId = app.Id, StepIndex = 0, Kind = NoticeKind.Cc, Recipients = app.Cc, At = now, Text = $"Application {app.Id} submitted by {app.SubmittedBy}" });
        await db.SaveChangesAsync();
        return (app, null);
    }

    public Task<CreditApplication?> LoadAsync(long id) =>
        db.Applications.Include(a => a.Steps).Include(a => a.Decisions).FirstOrDefaultAsync(a => a.Id == id);

    /// <summary>The route's step definitions for an application (deadline settings for re-activation).</summary>
    private async Task<IReadOnlyList<StepDefinition>> DefinitionsAsync(CreditApplication app, Customer customer)
    {
        var (_, policy) = await Policies.RoutesAsync(db);
        long routingAmount = app.Kind == ApplicationKind.PaymentTerms ? app.CurrentLimitMinor : app.AmountMinor;
        try
        {
            var (_, steps) = policy.Resolve(new RoutingInput(routingAmount, app.Grade, null, customer.Type, app.Kind));
            if (steps.Count == app.Steps.Count) return steps;
        }
        catch (InvalidOperationException) { }
        // The policy changed since submission: keep the application's own steps with the default deadlines.
        return app.Steps.OrderBy(s => s.Index).Select(s => new StepDefinition { Name = s.Name, Approvers = [.. s.ApproverList], Mode = s.Mode, EscalateTo = s.EscalateTo }).ToList();
    }

    public async Task<DecisionResult> DecideAsync(ClaimsPrincipal user, long id, DecisionAction action, string opinion)
    {
        // Who may decide is the active step's business (a role, a title such as sales-director, or a named user), so
        // there is no role gate here: ApprovalFlow.CanAct refuses everyone the step does not name.
        var app = await LoadAsync(id);
        if (app is null) return DecisionResult.Refused("application: not found");
        var customer = await db.Customers.FirstAsync(c => c.Id == app.CustomerId);
        var definitions = await DefinitionsAsync(app, customer);
        var users = await db.Users.AsNoTracking().Where(u => u.Active).ToListAsync();
        Actor? Resolve(string name) => users.FirstOrDefault(u => string.Equals(u.UserName, name, StringComparison.OrdinalIgnoreCase)) is { } u ? new Actor(u.UserName, u.RoleList, u.TitleList) : null;
        var now = clock.GetUtcNow();
        var seen = new
        {
            amount = Money.Format(app.AmountMinor, app.Currency), app.Kind, app.Score, app.Grade,
            suggested = app.SuggestedLimitMinor is long s ? Money.Format(s, app.Currency) : null,
            current = Money.Format(app.CurrentLimitMinor, app.Currency),
        };
        var before = new { app.Status, app.CurrentStepIndex };
        DecisionResult result = ApprovalFlow.Decide(app, user.ToActor(), action, opinion ?? "", seen, definitions, now, calendar, Resolve);
        if (result.Error is not null) return result;
        if (app.Status == ApplicationStatus.Approved) app.EngineRequestId = RequestIds.ForApplication(await identity.GetAsync(db), app.Id, app.Kind);
        Audit.Record(db, user.AuditName(), "Application", app.Id, action.ToString().ToLowerInvariant(), before,
            new { app.Status, app.CurrentStepIndex, opinion, app.WriteBack, app.EngineRequestId }, now);
        // One transaction: the decision, the new state and (on final approval) the pending write-back with its derived
        // request id. The engine is called only after this commit, by the write-back job.
        await db.SaveChangesAsync();
        if (result.FinallyApproved) signal.Wake();
        return result;
    }

    public async Task<string?> ResubmitAsync(ClaimsPrincipal user, long id)
    {
        var app = await LoadAsync(id);
        if (app is null) return "application: not found";
        var customer = await db.Customers.FirstAsync(c => c.Id == app.CustomerId);
        var definitions = await DefinitionsAsync(app, customer);
        var now = clock.GetUtcNow();
        string? error = ApprovalFlow.Resubmit(app, user.Name(), definitions, now, calendar);
        if (error is not null) return error;
        Audit.Record(db, user.AuditName(), "Application", app.Id, "resubmit", new { Status = ApplicationStatus.Returned }, new { app.Status }, now);
        await db.SaveChangesAsync();
        return null;
    }

    /// <summary>
    /// Sends one pending write-back. The request id is derived from the application, so a retry after a timeout or a
    /// crash (before or after the engine applied it) is answered by the engine as a replay and applied once.
    /// </summary>
    public async Task WriteBackAsync(CreditApplication app, CancellationToken ct)
    {
        if (app.WriteBack != WriteBackState.Pending) return;
        // Set with the approval, in the same transaction; derived here only for rows approved before that.
        string requestId = app.EngineRequestId ??= RequestIds.ForApplication(await identity.GetAsync(db, ct), app.Id, app.Kind);
        var now = clock.GetUtcNow();
        app.WriteBackAttempts++;
        FailPoint("before-engine-call");
        try
        {
            (bool approved, Status status, long sequence, bool replayed) = app.Kind switch
            {
                ApplicationKind.NewLimit => await NewLimitAsync(app, requestId, ct),
                ApplicationKind.LimitChange => Unpack(await engine.Client.ChangeLimitAsync(new ChangeLimitRequest { RequestId = requestId, AccountId = app.AccountId, CreditLimit = app.AmountMinor }, ct: ct)),
                ApplicationKind.TemporaryLimit => Unpack(await engine.Client.SetTemporaryLimitAsync(new SetTemporaryLimitRequest
                {
                    RequestId = requestId, AccountId = app.AccountId, Amount = app.AmountMinor, ExpiresAtUnixMs = app.TemporaryExpiresAt!.Value.ToUnixTimeMilliseconds(),
                }, ct: ct)),
                _ => Unpack(await engine.Lifecycle.SetBillingTermsAsync(new SetBillingTermsRequest
                {
                    RequestId = requestId, AccountId = app.AccountId, Billing = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = app.TermsDays ?? 30 },
                }, deadline: DateTime.UtcNow.AddMilliseconds(options.Value.EngineDeadlineMs), cancellationToken: ct)),
            };
            FailPoint("after-engine-call");
            app.EngineStatus = status.ToString();
            app.EngineSequence = sequence;
            app.EngineReplayed = replayed;
            app.WriteBackLastError = approved ? null : $"engine declined: {status}";
            app.WriteBack = approved ? WriteBackState.Done : WriteBackState.Declined;
            app.WrittenBackAt = now;
            if (approved) await ApplyToDeskAsync(app, sequence, ct);
            Audit.Record(db, "system:write-back", "Application", app.Id, "write-back", null,
                new { requestId, status = app.EngineStatus, sequence, replayed, attempt = app.WriteBackAttempts }, now);
            log.LogInformation("write-back of application {Id} ({RequestId}): {Status} at sequence {Sequence}, replayed {Replayed}", app.Id, requestId, status, sequence, replayed);
        }
        catch (Grpc.Core.RpcException e)
        {
            int delayMs = (int)Math.Min(options.Value.WriteBackBackoffMaxMs, options.Value.WriteBackBackoffMs * Math.Pow(2, Math.Min(20, app.WriteBackAttempts - 1)));
            app.WriteBackLastError = $"{now:u} attempt {app.WriteBackAttempts}: {e.Status.StatusCode} {e.Status.Detail}";
            app.WriteBackNextAttemptAt = now.AddMilliseconds(delayMs);
            log.LogWarning("write-back of application {Id} failed (attempt {Attempt}), retry in {DelayMs} ms: {Status}", app.Id, app.WriteBackAttempts, delayMs, e.Status);
        }
        await db.SaveChangesAsync(ct);
    }

    private async Task<(bool, Status, long, bool)> NewLimitAsync(CreditApplication app, string requestId, CancellationToken ct)
    {
        var account = await db.EngineAccounts.FirstOrDefaultAsync(a => a.AccountId == app.AccountId, ct);
        if (account is not null)
            return Unpack(await engine.Client.ChangeLimitAsync(new ChangeLimitRequest { RequestId = requestId, AccountId = app.AccountId, CreditLimit = app.AmountMinor }, ct: ct));
        var reply = await engine.Client.OpenAccountAsync(new OpenAccountRequest
        {
            RequestId = requestId, AccountId = app.AccountId, CustomerId = (await db.Customers.FirstAsync(c => c.Id == app.CustomerId, ct)).Uscc,
            Currency = app.Currency, CreditLimit = app.AmountMinor,
            Billing = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = app.TermsDays ?? 30 },
        }, ct: ct);
        return (reply.Approved, reply.Status, reply.Sequence, reply.Replayed);
    }

    private static (bool, Status, long, bool) Unpack(ChangeLimitResponse r) => (r.Approved, r.Status, r.Sequence, r.Replayed);
    private static (bool, Status, long, bool) Unpack(SetTemporaryLimitResponse r) => (r.Approved, r.Status, r.Sequence, r.Replayed);
    private static (bool, Status, long, bool) Unpack(LifecycleCommandResponse r) => (r.Approved, r.Status, r.Sequence, r.Replayed);

    /// <summary>The desk's own records after a successful write-back: the account row, terms, the customer's stage.</summary>
    private async Task ApplyToDeskAsync(CreditApplication app, long sequence, CancellationToken ct)
    {
        var customer = await db.Customers.Include(c => c.Accounts).FirstAsync(c => c.Id == app.CustomerId, ct);
        var account = customer.Accounts.FirstOrDefault(a => a.AccountId == app.AccountId);
        if (account is null && app.Kind == ApplicationKind.NewLimit)
        {
            account = new EngineAccount
            {
                CustomerId = customer.Id, AccountId = app.AccountId, Currency = app.Currency, OpenRequestId = app.EngineRequestId!, OpenedSequence = sequence,
                InitialLimitMinor = app.AmountMinor, OpenedAt = clock.GetUtcNow(), LimitMinor = app.AmountMinor, ProjectedSequence = sequence,
                BillingMode = "TERMS", TermsDays = app.TermsDays ?? 30,
            };
            customer.Accounts.Add(account);
            customer.LimitMinor += app.AmountMinor;
        }
        else if (account is not null && app.Kind is ApplicationKind.NewLimit or ApplicationKind.LimitChange && sequence > account.ProjectedSequence)
        {
            // The new limit shows at once; ProjectedSequence stays where the follower left it, so the events before this
            // one (purchases, repayments) are still projected when the follower reaches them, and this event after them.
            customer.LimitMinor += app.AmountMinor - account.LimitMinor;
            account.LimitMinor = app.AmountMinor;
        }
        if (account is not null && app.Kind == ApplicationKind.PaymentTerms && app.TermsDays is int terms) account.TermsDays = terms;
        customer.UtilisationPct = CustomerService.Utilisation(customer.LimitMinor, customer.PostedMinor, customer.HeldMinor);
        if (customer.Stage is LifecycleStage.InApproval or LifecycleStage.Lead or LifecycleStage.Prospect or LifecycleStage.DueDiligence) customer.Stage = LifecycleStage.Active;
    }

    private void FailPoint(string name)
    {
        if (options.Value.FailPoint == name)
        {
            log.LogCritical("fail point {Name}: killing the desk process", name);
            System.Diagnostics.Process.GetCurrentProcess().Kill();
            Thread.Sleep(Timeout.Infinite);
        }
    }
}

/// <summary>Wakes the write-back job at once after a final approval (it also runs on its interval).</summary>
public sealed class WriteBackSignal
{
    private readonly SemaphoreSlim _wake = new(0);
    public void Wake() { if (_wake.CurrentCount == 0) _wake.Release(); }
    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => _wake.WaitAsync(timeout, ct);
}
