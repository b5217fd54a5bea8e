using System.Text.Json;

namespace Desk.Domain;

/// <summary>The outcome of a decision: an error (nothing changed) or what happened.</summary>
public sealed record DecisionResult(string? Error, bool StepCompleted, bool FinallyApproved, bool Closed)
{
    public static DecisionResult Refused(string error) => new(error, false, false, false);
}

/// <summary>
/// The approval state machine over a <see cref="CreditApplication"/> and its steps. Pure: the caller passes the clock
/// reading and stores the result. Rules: maker–checker (the submitter never decides); an approver must match the
/// active step (or its escalation target once escalated); one person decides at most one step of an application;
/// any-of completes on one approval, all-of when every listed approver is matched by a different person.
/// </summary>
public static class ApprovalFlow
{
    public static void Start(CreditApplication app, RouteDefinition route, IReadOnlyList<StepDefinition> steps, DateTimeOffset now, WorkingCalendar calendar)
    {
        app.RouteName = route.Name;
        app.Cc = string.Join(",", route.Cc);
        app.Status = ApplicationStatus.InApproval;
        app.Steps = steps.Select((s, i) => new ApprovalStep
        {
            Index = i,
            Name = s.Name,
            Approvers = string.Join(",", s.Approvers),
            Mode = s.Mode,
            Status = StepStatus.Waiting,
            EscalateTo = s.EscalateTo,
        }).ToList();
        Activate(app, 0, steps, now, calendar);
    }

    /// <summary>Deadline settings of each step are carried by the definitions; re-activation after a return uses them again.</summary>
    private static void Activate(CreditApplication app, int index, IReadOnlyList<StepDefinition> definitions, DateTimeOffset now, WorkingCalendar calendar)
    {
        app.CurrentStepIndex = index;
        ApprovalStep step = app.Steps[index];
        StepDefinition definition = definitions[index];
        step.Status = StepStatus.Active;
        step.ActivatedAt = now;
        step.DueAt = calendar.AddWorkingHours(now, definition.DeadlineWorkingHours);
        step.ReminderAt = calendar.AddWorkingHours(now, definition.DeadlineWorkingHours - definition.ReminderBeforeWorkingHours);
        step.RemindedAt = null;
        step.EscalatedAt = null;
    }

    public static bool CanAct(CreditApplication app, Actor actor, out string? why)
    {
        why = null;
        if (app.Status != ApplicationStatus.InApproval) { why = $"the application is {app.Status}, not in approval"; return false; }
        if (string.Equals(app.SubmittedBy, actor.UserName, StringComparison.OrdinalIgnoreCase)) { why = "maker–checker: nobody decides on an application they submitted"; return false; }
        ApprovalStep step = app.Steps.Single(s => s.Index == app.CurrentStepIndex);
        bool listed = step.ApproverList.Any(a => ApproverSpec.TryParse(a, out var spec) && spec.IsSatisfiedBy(actor))
            || (step.EscalatedAt is not null && ApproverSpec.TryParse(step.EscalateTo, out var up) && up.IsSatisfiedBy(actor));
        if (!listed) { why = $"step '{step.Name}' is for {step.Approvers}"; return false; }
        if (app.Decisions.Any(d => d.Action == DecisionAction.Approve && string.Equals(d.Actor, actor.UserName, StringComparison.OrdinalIgnoreCase) && IsCurrentRound(app, d)))
        {
            why = "you have already approved a step of this application; another person must decide this one";
            return false;
        }
        return true;
    }

    /// <summary>Decisions since the application was last (re)submitted count; those before a return do not.</summary>
    private static bool IsCurrentRound(CreditApplication app, ApprovalDecision decision) => decision.At >= app.SubmittedAt;

    /// <summary>What an approver saw, as readable JSON: CJK and ¥ unescaped, enums by name.</summary>
    public static readonly JsonSerializerOptions SeenJson = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public static DecisionResult Decide(CreditApplication app, Actor actor, DecisionAction action, string opinion, object seen,
        IReadOnlyList<StepDefinition> definitions, DateTimeOffset now, WorkingCalendar calendar, Func<string, Actor?> resolveActor)
    {
        if (string.IsNullOrWhiteSpace(opinion) && action != DecisionAction.Approve) return DecisionResult.Refused("opinion: is required to reject or return");
        if (opinion.Length > 2000) return DecisionResult.Refused("opinion: at most 2,000 characters");
        if (!CanAct(app, actor, out string? why)) return DecisionResult.Refused(why!);
        ApprovalStep step = app.Steps.Single(s => s.Index == app.CurrentStepIndex);
        app.Decisions.Add(new ApprovalDecision
        {
            ApplicationId = app.Id,
            StepIndex = step.Index,
            Actor = actor.UserName,
            Action = action,
            Opinion = opinion.Trim(),
            At = now,
            Seen = JsonSerializer.Serialize(seen, SeenJson),
        });
        switch (action)
        {
            case DecisionAction.Reject:
                app.Status = ApplicationStatus.Rejected;
                app.DecidedAt = now;
                step.Status = StepStatus.Done;
                step.CompletedAt = now;
                return new DecisionResult(null, true, false, true);
            case DecisionAction.Return:
                app.Status = ApplicationStatus.Returned;
                step.Status = StepStatus.Waiting;
                return new DecisionResult(null, false, false, true);
        }
        if (!StepComplete(app, step, resolveActor)) return new DecisionResult(null, false, false, false);
        step.Status = StepStatus.Done;
        step.CompletedAt = now;
        int next = step.Index + 1;
        if (next < app.Steps.Count)
        {
            Activate(app, next, definitions, now, calendar);
            return new DecisionResult(null, true, false, false);
        }
        app.Status = ApplicationStatus.Approved;
        app.DecidedAt = now;
        app.WriteBack = WriteBackState.Pending;
        app.WriteBackNextAttemptAt = now;
        return new DecisionResult(null, true, true, true);
    }

    /// <summary>After a return: only the submitter resubmits; the route starts again from its first step.</summary>
    public static string? Resubmit(CreditApplication app, string userName, IReadOnlyList<StepDefinition> definitions, DateTimeOffset now, WorkingCalendar calendar)
    {
        if (app.Status != ApplicationStatus.Returned) return $"the application is {app.Status}; only a returned application is resubmitted";
        if (!string.Equals(app.SubmittedBy, userName, StringComparison.OrdinalIgnoreCase)) return "only the submitter resubmits";
        app.Status = ApplicationStatus.InApproval;
        app.SubmittedAt = now;
        foreach (ApprovalStep s in app.Steps) { s.Status = StepStatus.Waiting; s.CompletedAt = null; }
        Activate(app, 0, definitions, now, calendar);
        return null;
    }

    private static bool StepComplete(CreditApplication app, ApprovalStep step, Func<string, Actor?> resolveActor)
    {
        var approvers = app.Decisions
            .Where(d => d.StepIndex == step.Index && d.Action == DecisionAction.Approve && d.At >= (step.ActivatedAt ?? DateTimeOffset.MinValue))
            .Select(d => d.Actor).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (step.Mode == StepMode.AnyOf) return approvers.Count >= 1;
        // All-of: each listed approver spec matched by a different approving person (greedy, in list order).
        return step.ApproverList.Count <= approvers.Count && AllOfMatched(step, approvers, resolveActor);
    }

    private static bool AllOfMatched(ApprovalStep step, List<string> approvers, Func<string, Actor?> resolveActor)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string specText in step.ApproverList)
        {
            if (!ApproverSpec.TryParse(specText, out var spec)) return false;
            string? who = approvers.FirstOrDefault(a => !used.Contains(a) && resolveActor(a) is { } actor && spec.IsSatisfiedBy(actor));
            if (who is null) return false;
            used.Add(who);
        }
        return true;
    }

    /// <summary>Reminders and escalations due at <paramref name="now"/> for the active step; marks them so each is raised once.</summary>
    public static IReadOnlyList<ApprovalNotice> DueNotices(CreditApplication app, DateTimeOffset now)
    {
        var notices = new List<ApprovalNotice>();
        if (app.Status != ApplicationStatus.InApproval) return notices;
        ApprovalStep step = app.Steps.Single(s => s.Index == app.CurrentStepIndex);
        if (step.RemindedAt is null && step.ReminderAt <= now)
        {
            step.RemindedAt = now;
            notices.Add(new ApprovalNotice { ApplicationId = app.Id, StepIndex = step.Index, Kind = NoticeKind.Reminder, Recipients = step.Approvers, At = now,
                Text = $"Step '{step.Name}' is due at {step.DueAt:u}" });
        }
        if (step.EscalatedAt is null && step.DueAt <= now)
        {
            step.EscalatedAt = now;
            notices.Add(new ApprovalNotice { ApplicationId = app.Id, StepIndex = step.Index, Kind = NoticeKind.Escalation, Recipients = step.EscalateTo, At = now,
                Text = $"Step '{step.Name}' passed its deadline {step.DueAt:u}; escalated to {step.EscalateTo}" });
        }
        return notices;
    }
}
