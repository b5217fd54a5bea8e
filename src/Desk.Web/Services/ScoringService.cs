using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

/// <summary>Computes and stores scores with the model in force; applies the automatic downgrade rule.</summary>
public sealed class ScoringService(DeskDb db, TimeProvider clock)
{
    public static ScoreInputs InputsOf(Customer c, DateTimeOffset now) => new(
        c.Type,
        c.CooperationSinceYear is int year ? Math.Max(0, now.Year - year) : 0,
        c.Volume12mMinor,
        // Days to pay are not measured until collections (issue 16) records payments against statements; the
        // account's terms stand in for it.
        c.Accounts.Count > 0 ? c.Accounts.Min(a => a.TermsDays) : 30,
        c.LatePayments12m,
        c.DpdDays,
        c.UtilisationPct,
        c.ExternalRating);

    private ScoringModel? _model;

    /// <summary>Scores the customer (which must include its accounts), stores the score if anything changed, returns it.</summary>
    public async Task<ScoreResult> ScoreAsync(Customer c, string reason, string actor, bool save = true) =>
        (await ScoreWithOutcomeAsync(c, reason, actor, save)).Result;

    /// <summary>
    /// As <see cref="ScoreAsync"/>, also returning the grade stored before and the grade computed before the downgrade
    /// rule, which the automatic lower-limit application needs. The model in force is read once per scope.
    /// </summary>
    public async Task<ScoreOutcome> ScoreWithOutcomeAsync(Customer c, string reason, string actor, bool save = true)
    {
        ScoringModel model = _model ??= await Policies.ScoringAsync(db);
        var now = clock.GetUtcNow();
        ScoreInputs inputs = InputsOf(c, now);
        ScoreResult result = model.Score(inputs);
        string computed = result.Grade;
        string? previous = c.Grade;
        string grade = result.Grade;
        string why = reason;
        if (model.Downgrade(grade, inputs.LatePayments12m) is { } down)
        {
            grade = down.Grade;
            why = $"{reason}; {down.Reason}";
            (long limit, int terms) = model.Suggest(grade, inputs.Volume12mMinor);
            result = result with { Grade = grade, SuggestedLimitMinor = limit, SuggestedTermsDays = terms };
        }
        if (c.Score != result.Score || c.Grade != result.Grade)
        {
            var before = new { c.Score, c.Grade };
            db.Scores.Add(new CustomerScore
            {
                CustomerId = c.Id, ModelVersion = result.ModelVersion, Score = result.Score, Grade = result.Grade,
                SuggestedLimitMinor = result.SuggestedLimitMinor, SuggestedTermsDays = result.SuggestedTermsDays,
                Inputs = Audit.ToJson(inputs), Reason = why, At = now,
            });
            c.Score = result.Score;
            c.Grade = result.Grade;
            Audit.Record(db, actor, "Customer", c.Id, "score", before, new { c.Score, c.Grade, model = result.ModelVersion, reason = why }, now);
            if (save) await db.SaveChangesAsync();
        }
        return new ScoreOutcome(result, previous, computed, why, model);
    }
}

/// <summary>A score with what the downgrade rule needs: the grade stored before, the grade before the rule, the reason.</summary>
public sealed record ScoreOutcome(ScoreResult Result, string? PreviousGrade, string ComputedGrade, string Reason, ScoringModel Model);

/// <summary>
/// Rescoring as events arrive and nightly, with the automatic downgrade application: when the model is configured for
/// it and the downgrade rule lowers the customer's grade, an application for the new grade's lower suggested limit is
/// submitted by <c>system:scoring</c> and goes through the normal approval route (people decide; nothing is applied
/// without approval). At most one open application per customer: none is added while one is in approval or returned.
/// </summary>
public sealed class RescoringService(DeskDb db, ScoringService scoring, ApplicationService applications, ILogger<RescoringService> log)
{
    public const string Actor = "system:scoring";

    /// <summary>Rescores <paramref name="c"/> (with its accounts); saves nothing itself unless it submits an application.</summary>
    public async Task RescoreAsync(Customer c, string reason, CancellationToken ct = default)
    {
        var outcome = await scoring.ScoreWithOutcomeAsync(c, reason, Actor, save: false);
        var account = c.Accounts.OrderBy(a => a.Id).FirstOrDefault();
        if (account is null) return;
        if (outcome.Model.LowerLimitOnDowngrade(outcome.PreviousGrade, outcome.ComputedGrade, outcome.Result.Grade, account.LimitMinor, outcome.Result.SuggestedLimitMinor) is not long lower)
            return;
        if (await db.Applications.AnyAsync(a => a.CustomerId == c.Id && (a.Status == ApplicationStatus.InApproval || a.Status == ApplicationStatus.Returned), ct))
            return;
        var (app, error) = await applications.SubmitForAsync(c, new SubmitRequest(c.Id, ApplicationKind.LimitChange, lower, null, null,
            $"automatic: grade {outcome.PreviousGrade ?? outcome.ComputedGrade} → {outcome.Result.Grade} ({outcome.Reason}); suggested limit {Money.Format(lower, c.Currency)}"), Actor, Actor);
        if (app is null) log.LogWarning("automatic downgrade application for customer {Id} not submitted: {Error}", c.Id, error);
        else log.LogInformation("customer {Id} downgraded to {Grade}: application {App} for {Limit}", c.Id, outcome.Result.Grade, app.Id, Money.Format(lower, c.Currency));
    }
}
