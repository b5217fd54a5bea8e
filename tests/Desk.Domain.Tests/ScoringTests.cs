namespace Desk.Domain.Tests;

public class ScoringTests
{
    private static readonly ScoreInputs Good = new(CustomerType.Enterprise, 6, 24_000_000 * 100L, 25, 0, 0, 40, "AA");
    private static readonly ScoreInputs Poor = new(CustomerType.Individual, 0, 50_000 * 100L, 75, 5, 120, 110, "C");

    [Fact]
    public void Default_model_is_valid() => Assert.Empty(ScoringModel.Default().Validate());

    [Fact]
    public void Score_is_the_weighted_mean_of_factor_points()
    {
        var model = new ScoringModel
        {
            Factors =
            [
                new() { Factor = ScoreFactor.LatePayments12m, Weight = 3, Bands = [new() { AtMost = 0, Points = 100 }, new() { Points = 0 }] },
                new() { Factor = ScoreFactor.Utilisation, Weight = 1, Bands = [new() { AtMost = 50, Points = 100 }, new() { Points = 20 }] },
            ],
            Suggestions = ScoringModel.Default().Suggestions,
        };
        ScoreResult r = model.Score(Good with { UtilisationPct = 90 });
        Assert.Equal(80, r.Score); // (3 × 100 + 1 × 20) / 4
        Assert.Equal("A", r.Grade);
    }

    [Fact]
    public void Grades_follow_the_cutoffs_and_suggest_limits_capped_by_grade()
    {
        var model = ScoringModel.Default();
        ScoreResult good = model.Score(Good);
        Assert.Equal("A", good.Grade);
        // 24,000,000 a year = 2,000,000 a month × 3 months = 6,000,000, capped at 5,000,000 for A.
        Assert.Equal(5_000_000 * 100L, good.SuggestedLimitMinor);
        Assert.Equal(60, good.SuggestedTermsDays);
        ScoreResult poor = model.Score(Poor);
        Assert.Equal("D", poor.Grade);
        Assert.Equal(0, poor.SuggestedLimitMinor);
        Assert.Equal(1, poor.ModelVersion);
    }

    [Fact]
    public void Two_late_payments_in_six_months_downgrade_one_grade()
    {
        var model = ScoringModel.Default();
        Assert.Null(model.Downgrade("B", 1));
        Assert.Equal("C", model.Downgrade("B", 2)!.Value.Grade);
        Assert.Null(model.Downgrade("D", 5));
    }

    [Fact]
    public void Invalid_model_names_the_field()
    {
        var model = ScoringModel.Default();
        model.CutoffB = 90;
        model.Suggestions.Remove("C");
        var problems = model.Validate();
        Assert.Contains("cutoffs: need 100 >= A > B > C > 0", problems);
        Assert.Contains("suggestions.C: is required", problems);
    }
}

public class DowngradeApplicationTests
{
    private static readonly ScoringModel Configured = new() { DowngradeCreatesApplication = true };

    [Fact]
    public void A_downgrade_below_the_stored_grade_asks_for_the_new_grades_lower_suggested_limit() =>
        Assert.Equal(5_000_00, Configured.LowerLimitOnDowngrade("B", "B", "C", 100_000_00, 5_000_00));

    [Fact]
    public void A_first_score_that_is_downgraded_counts_as_a_downgrade() =>
        Assert.Equal(5_000_00, Configured.LowerLimitOnDowngrade(null, "B", "C", 100_000_00, 5_000_00));

    [Fact]
    public void No_application_unless_the_model_is_configured_for_it() =>
        Assert.Null(new ScoringModel().LowerLimitOnDowngrade("B", "B", "C", 100_000_00, 5_000_00));

    [Fact]
    public void No_application_when_the_customer_already_had_that_grade_or_lower() =>
        Assert.Null(Configured.LowerLimitOnDowngrade("C", "B", "C", 100_000_00, 5_000_00));

    [Fact]
    public void No_application_without_a_downgrade_or_when_the_suggestion_is_not_lower()
    {
        Assert.Null(Configured.LowerLimitOnDowngrade("A", "C", "C", 100_000_00, 5_000_00));
        Assert.Null(Configured.LowerLimitOnDowngrade("B", "B", "C", 5_000_00, 5_000_00));
    }
}
