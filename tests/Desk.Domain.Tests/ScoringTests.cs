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
    public void A_grade_B_customer_without_volume_yet_is_suggested_the_grade_floor_not_zero()
    {
        var model = ScoringModel.Default();
        // Newly imported: a good profile but no captured volume yet. Before the floor every grade suggested ¥0.00.
        ScoreInputs noVolume = Good with { Volume12mMinor = 0, YearsOfCooperation = 1, ExternalRating = "BBB", UtilisationPct = 60 };
        ScoreResult r = model.Score(noVolume);
        Assert.Equal("B", r.Grade);
        Assert.Equal(100_000 * 100L, r.SuggestedLimitMinor);
        Assert.Equal(45, r.SuggestedTermsDays);
        // With volume above the floor the volume rule decides: 1,500,000 a year = 125,000 a month × 2 = 250,000.
        Assert.Equal(250_000 * 100L, model.Suggest("B", 1_500_000 * 100L).LimitMinor);
    }

    [Fact]
    public void A_suggestion_is_rounded_down_to_whole_major_units_never_above_the_volume_rule()
    {
        var model = ScoringModel.Default();
        model.Suggestions["B"].FloorMinor = 0;
        // 1,000,001.00 a year / 12 × 2 = 166,666.83… → 166,666.00
        Assert.Equal(166_666 * 100L, model.Suggest("B", 100_000_100L).LimitMinor);
    }

    [Fact]
    public void A_zero_cap_on_a_grade_that_suggests_by_volume_is_refused_naming_the_field()
    {
        var model = ScoringModel.Default();
        model.Suggestions["B"].CapMinor = 0;
        var problems = model.Validate();
        Assert.Contains(problems, p => p.StartsWith("suggestions.B.capMinor: "));
        Assert.Empty(ScoringModel.Default().Validate()); // D (volumeMonths 0, cap 0: suggest nothing) stays valid
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
