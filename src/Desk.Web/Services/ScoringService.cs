using Desk.Domain;
using Desk.Web.Data;

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

    /// <summary>Scores the customer (which must include its accounts), stores the score if anything changed, returns it.</summary>
    public async Task<ScoreResult> ScoreAsync(Customer c, string reason, string actor, bool save = true)
    {
        ScoringModel model = await Policies.ScoringAsync(db);
        var now = clock.GetUtcNow();
        ScoreInputs inputs = InputsOf(c, now);
        ScoreResult result = model.Score(inputs);
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
        return result;
    }
}
