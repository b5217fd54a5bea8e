namespace Desk.Domain.Tests;

public class ApprovalFlowTests
{
    private static readonly WorkingCalendar Calendar = WorkingCalendar.ChinaStandard();
    // Monday 2026-03-02 10:00 in Beijing.
    private static readonly DateTimeOffset Monday10 = new(2026, 3, 2, 10, 0, 0, TimeSpan.FromHours(8));

    private static readonly Dictionary<string, Actor> People = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sam"] = new Actor("sam", ["sales"], []),
        ["fay"] = new Actor("fay", ["finance"], []),
        ["fin2"] = new Actor("fin2", ["finance"], []),
        ["dora"] = new Actor("dora", ["finance"], ["finance-director"]),
        ["sid"] = new Actor("sid", ["sales"], ["sales-director"]),
        ["max"] = new Actor("max", ["manager"], []),
        ["rita"] = new Actor("rita", ["risk"], []),
    };

    private static (CreditApplication App, IReadOnlyList<StepDefinition> Steps) Submit(long amountMajor, RoutePolicy? policy = null, string by = "sam")
    {
        var app = new CreditApplication { Id = 7, Kind = ApplicationKind.NewLimit, AmountMinor = amountMajor * 100, SubmittedBy = by, SubmittedAt = Monday10 };
        var (route, steps) = (policy ?? RoutePolicy.Default()).Resolve(new RoutingInput(app.AmountMinor, "B", null, CustomerType.Enterprise, app.Kind));
        ApprovalFlow.Start(app, route, steps, Monday10, Calendar);
        return (app, steps);
    }

    private static DecisionResult Act(CreditApplication app, IReadOnlyList<StepDefinition> steps, string who, DecisionAction action, DateTimeOffset? at = null, string opinion = "ok") =>
        ApprovalFlow.Decide(app, People[who], action, opinion, new { app.AmountMinor }, steps, at ?? Monday10.AddHours(1), Calendar, n => People.GetValueOrDefault(n));

    [Fact]
    public void Two_step_approval_ends_approved_with_write_back_pending()
    {
        var (app, steps) = Submit(80_000);
        Assert.True(Act(app, steps, "fay", DecisionAction.Approve).StepCompleted);
        Assert.Equal(1, app.CurrentStepIndex);
        DecisionResult last = Act(app, steps, "dora", DecisionAction.Approve);
        Assert.True(last.FinallyApproved);
        Assert.Equal(ApplicationStatus.Approved, app.Status);
        Assert.Equal(WriteBackState.Pending, app.WriteBack);
    }

    [Fact]
    public void Submitter_cannot_decide_their_own_application()
    {
        var (app, steps) = Submit(10_000, by: "fay");
        DecisionResult result = Act(app, steps, "fay", DecisionAction.Approve);
        Assert.Equal("maker–checker: nobody decides on an application they submitted", result.Error);
        Assert.Empty(app.Decisions);
    }

    [Fact]
    public void Approver_not_named_by_the_step_is_refused()
    {
        var (app, steps) = Submit(80_000);
        Assert.Equal("step 'finance-review' is for role:finance", Act(app, steps, "sid", DecisionAction.Approve).Error);
    }

    [Fact]
    public void One_person_approves_at_most_one_step()
    {
        var (app, steps) = Submit(80_000);
        Act(app, steps, "dora", DecisionAction.Approve);
        Assert.Equal("you have already approved a step of this application; another person must decide this one", Act(app, steps, "dora", DecisionAction.Approve).Error);
    }

    [Fact]
    public void All_of_step_needs_every_listed_approver()
    {
        var policy = new RoutePolicy { Routes = [new RouteDefinition { Name = "dual", Steps = [new StepDefinition { Name = "dual", Approvers = ["role:finance", "role:risk"], Mode = StepMode.AllOf }] }] };
        var (app, steps) = Submit(1_000, policy);
        Assert.False(Act(app, steps, "fay", DecisionAction.Approve).StepCompleted);
        Assert.False(Act(app, steps, "fin2", DecisionAction.Approve).StepCompleted); // a second finance person does not stand in for risk
        Assert.True(Act(app, steps, "rita", DecisionAction.Approve).FinallyApproved);
    }

    [Fact]
    public void Reject_and_return_need_an_opinion_and_return_restarts_on_resubmit()
    {
        var (app, steps) = Submit(10_000);
        Assert.Equal("opinion: is required to reject or return", Act(app, steps, "fay", DecisionAction.Return, opinion: " ").Error);
        Act(app, steps, "fay", DecisionAction.Return, opinion: "attach the audited accounts");
        Assert.Equal(ApplicationStatus.Returned, app.Status);
        Assert.Equal("only the submitter resubmits", ApprovalFlow.Resubmit(app, "fay", steps, Monday10.AddHours(2), Calendar));
        Assert.Null(ApprovalFlow.Resubmit(app, "sam", steps, Monday10.AddHours(2), Calendar));
        Assert.Equal(0, app.CurrentStepIndex);
        Assert.Null(Act(app, steps, "fay", DecisionAction.Approve, Monday10.AddHours(3)).Error);
        Assert.Equal("opinion: is required to reject or return", Act(app, steps, "sid", DecisionAction.Reject, Monday10.AddHours(3), " ").Error);
        Assert.True(Act(app, steps, "sid", DecisionAction.Reject, Monday10.AddHours(3), "too much").Closed);
        Assert.Equal(ApplicationStatus.Rejected, app.Status);
    }

    [Fact]
    public void Deadline_is_24_working_hours_with_a_reminder_before_and_escalation_after()
    {
        var (app, steps) = Submit(10_000);
        ApprovalStep step = app.Steps[0];
        // Monday 10:00 + 24 working hours (9:00-18:00): Monday 8 h, Tuesday 9 h, Wednesday 7 h → Wednesday 16:00.
        Assert.Equal(new DateTimeOffset(2026, 3, 4, 16, 0, 0, TimeSpan.FromHours(8)), step.DueAt);
        Assert.Equal(new DateTimeOffset(2026, 3, 4, 12, 0, 0, TimeSpan.FromHours(8)), step.ReminderAt);

        Assert.Empty(ApprovalFlow.DueNotices(app, step.ReminderAt!.Value.AddMinutes(-1)));
        var reminder = ApprovalFlow.DueNotices(app, step.ReminderAt!.Value);
        Assert.Equal(NoticeKind.Reminder, Assert.Single(reminder).Kind);
        Assert.Empty(ApprovalFlow.DueNotices(app, step.ReminderAt!.Value.AddMinutes(1))); // raised once
        var escalation = ApprovalFlow.DueNotices(app, step.DueAt!.Value);
        Assert.Equal("role:manager", Assert.Single(escalation).Recipients);

        // Once escalated, the manager may decide the step.
        Assert.Null(Act(app, steps, "max", DecisionAction.Approve, step.DueAt!.Value.AddMinutes(5)).Error);
    }

    [Fact]
    public void Working_hours_skip_the_weekend()
    {
        var friday17 = new DateTimeOffset(2026, 3, 6, 17, 0, 0, TimeSpan.FromHours(8));
        // 1 h on Friday, then Monday 9:00 + 2 h.
        Assert.Equal(new DateTimeOffset(2026, 3, 9, 11, 0, 0, TimeSpan.FromHours(8)), Calendar.AddWorkingHours(friday17, 3));
        var saturday = new DateTimeOffset(2026, 3, 7, 12, 0, 0, TimeSpan.FromHours(8));
        Assert.Equal(new DateTimeOffset(2026, 3, 9, 10, 0, 0, TimeSpan.FromHours(8)), Calendar.AddWorkingHours(saturday, 1));
    }
}
