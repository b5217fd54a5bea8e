namespace Desk.Domain;

/// <summary>The facts a score is computed from. Money in minor units, durations in days.</summary>
public sealed record ScoreInputs(
    CustomerType CustomerType,
    int YearsOfCooperation,
    long Volume12mMinor,
    int AverageDaysToPay,
    int LatePayments12m,
    int WorstDpd12m,
    int UtilisationPct,
    string? ExternalRating);

public enum ScoreFactor { CustomerType, YearsOfCooperation, Volume12m, AverageDaysToPay, LatePayments12m, WorstDpd12m, Utilisation, ExternalRating }

/// <summary>
/// A numeric band: the first band whose <see cref="AtMost"/> is at least the value gives the points (null = no upper
/// bound, put it last). Volume bands are in major units.
/// </summary>
public sealed class Band
{
    public double? AtMost { get; set; }
    public int Points { get; set; }
}

public sealed class FactorDefinition
{
    public ScoreFactor Factor { get; set; }
    public double Weight { get; set; }
    public List<Band> Bands { get; set; } = [];
    /// <summary>For categorical factors (customer type, external rating): value → points; missing values score <see cref="DefaultPoints"/>.</summary>
    public Dictionary<string, int> Values { get; set; } = [];
    public int DefaultPoints { get; set; }
}

public sealed class GradeSuggestion
{
    /// <summary>
    /// Suggested limit = this many months of average monthly volume, at least <see cref="FloorMinor"/>, at most
    /// <see cref="CapMinor"/>, rounded down to whole major units.
    /// </summary>
    public double VolumeMonths { get; set; }
    public long CapMinor { get; set; }
    /// <summary>
    /// The least a customer of this grade is suggested, also without volume: a newly imported or newly opened customer has
    /// no captured volume yet, and without a floor every grade then suggested ¥0.00 (the grade-B "suggested ¥0.00" of issue 15).
    /// </summary>
    public long FloorMinor { get; set; }
    public int TermsDays { get; set; }
}

/// <summary>
/// A scoring model as data: weighted factors each mapped to 0-100 points; the score is the weighted mean (0-100),
/// the grade comes from cut-offs (score ≥ A → A, ≥ B → B, ≥ C → C, else D), and each grade suggests a limit and terms.
/// Every version is kept; a score records the version that produced it.
/// </summary>
public sealed class ScoringModel
{
    public int Version { get; set; } = 1;
    public List<FactorDefinition> Factors { get; set; } = [];
    public int CutoffA { get; set; } = 80;
    public int CutoffB { get; set; } = 60;
    public int CutoffC { get; set; } = 40;
    public Dictionary<string, GradeSuggestion> Suggestions { get; set; } = [];
    /// <summary>Automatic downgrade: this many late payments within <see cref="DowngradeWindowMonths"/> → one grade down.</summary>
    public int DowngradeLatePayments { get; set; } = 2;
    public int DowngradeWindowMonths { get; set; } = 6;
    /// <summary>When a downgrade lowers the suggested limit below the current one, open an application for the lower limit.</summary>
    public bool DowngradeCreatesApplication { get; set; }

    public static readonly string[] Grades = ["A", "B", "C", "D"];

    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Factors.Count == 0) problems.Add("factors: at least one factor is required");
        if (Factors.Sum(f => f.Weight) <= 0) problems.Add("factors: weights must add up to more than 0");
        for (int i = 0; i < Factors.Count; i++)
        {
            FactorDefinition f = Factors[i];
            if (f.Weight < 0) problems.Add($"factors[{i}].weight: must be >= 0");
            bool categorical = f.Factor is ScoreFactor.CustomerType or ScoreFactor.ExternalRating;
            if (!categorical && f.Bands.Count == 0) problems.Add($"factors[{i}].bands: a numeric factor needs bands");
            if (f.Bands.Any(b => b.Points is < 0 or > 100) || f.Values.Values.Any(p => p is < 0 or > 100) || f.DefaultPoints is < 0 or > 100)
                problems.Add($"factors[{i}]: points must be 0..100");
        }
        if (!(CutoffA > CutoffB && CutoffB > CutoffC && CutoffC > 0 && CutoffA <= 100)) problems.Add("cutoffs: need 100 >= A > B > C > 0");
        foreach (string g in Grades)
        {
            if (!Suggestions.TryGetValue(g, out GradeSuggestion? s)) { problems.Add($"suggestions.{g}: is required"); continue; }
            if (s.VolumeMonths is < 0 or > 120 || double.IsNaN(s.VolumeMonths)) problems.Add($"suggestions.{g}.volumeMonths: must be 0..120");
            if (s.FloorMinor < 0) problems.Add($"suggestions.{g}.floorMinor: must be >= 0");
            if (s.CapMinor < s.FloorMinor) problems.Add($"suggestions.{g}.capMinor: must be >= floorMinor ({s.FloorMinor})");
            if (s.CapMinor <= 0 && s.VolumeMonths > 0) problems.Add($"suggestions.{g}.capMinor: 0 caps every suggestion at ¥0.00; set a cap, or volumeMonths 0 to suggest nothing");
            if (s.TermsDays is < 0 or > 365) problems.Add($"suggestions.{g}.termsDays: must be 0..365");
        }
        return problems;
    }

    public ScoreResult Score(ScoreInputs inputs)
    {
        double totalWeight = Factors.Sum(f => f.Weight);
        var parts = new List<ScorePart>();
        double sum = 0;
        foreach (FactorDefinition f in Factors)
        {
            int points = Points(f, inputs);
            parts.Add(new ScorePart(f.Factor, f.Weight, points));
            sum += f.Weight * points;
        }
        int score = (int)Math.Round(totalWeight > 0 ? sum / totalWeight : 0, MidpointRounding.AwayFromZero);
        score = Math.Clamp(score, 0, 100);
        string grade = GradeOf(score);
        (long limit, int terms) = Suggest(grade, inputs.Volume12mMinor);
        return new ScoreResult(Version, score, grade, limit, terms, parts);
    }

    public string GradeOf(int score) => score >= CutoffA ? "A" : score >= CutoffB ? "B" : score >= CutoffC ? "C" : "D";

    public (long LimitMinor, int TermsDays) Suggest(string grade, long volume12mMinor)
    {
        GradeSuggestion s = Suggestions[grade];
        // In decimal, whole major units, rounded down: a suggestion never exceeds the volume rule or the cap.
        decimal monthly = Math.Max(0, volume12mMinor) / 12m;
        decimal byVolume = Math.Floor(monthly * (decimal)s.VolumeMonths / Money.MinorPerMajor) * Money.MinorPerMajor;
        decimal limit = Math.Min(s.CapMinor, Math.Max(s.FloorMinor, byVolume));
        return (Math.Max(0, (long)limit), s.TermsDays);
    }

    /// <summary>The automatic downgrade rule: one grade down (D stays D), with the reason; null when it does not apply.</summary>
    /// <summary>
    /// The automatic lower-limit application of a downgrade, when the model asks for one
    /// (<see cref="DowngradeCreatesApplication"/>): only when the downgrade rule moved the customer to a grade below
    /// the one stored before (a first score counts as moving from the grade computed without the rule), and only when
    /// the new grade's suggestion is below the current limit. Returns the limit to apply for, or null.
    /// </summary>
    public long? LowerLimitOnDowngrade(string? previousGrade, string computedGrade, string downgradedGrade, long currentLimitMinor, long suggestedLimitMinor)
    {
        if (!DowngradeCreatesApplication || computedGrade == downgradedGrade) return null;
        int before = Array.IndexOf(Grades, previousGrade ?? computedGrade);
        if (before >= Array.IndexOf(Grades, downgradedGrade)) return null; // already at or below this grade: no new downgrade
        return suggestedLimitMinor < currentLimitMinor ? suggestedLimitMinor : null;
    }

    public (string Grade, string Reason)? Downgrade(string grade, int latePaymentsInWindow)
    {
        if (latePaymentsInWindow < DowngradeLatePayments || grade == "D") return null;
        string lower = Grades[Array.IndexOf(Grades, grade) + 1];
        return (lower, $"{latePaymentsInWindow} late payments in {DowngradeWindowMonths} months (rule: {DowngradeLatePayments}) → one grade down");
    }

    private static int Points(FactorDefinition f, ScoreInputs x)
    {
        switch (f.Factor)
        {
            case ScoreFactor.CustomerType:
                return f.Values.TryGetValue(x.CustomerType.ToString(), out int t) ? t : f.DefaultPoints;
            case ScoreFactor.ExternalRating:
                return x.ExternalRating is not null && f.Values.TryGetValue(x.ExternalRating, out int r) ? r : f.DefaultPoints;
        }
        double value = f.Factor switch
        {
            ScoreFactor.YearsOfCooperation => x.YearsOfCooperation,
            ScoreFactor.Volume12m => x.Volume12mMinor / (double)Money.MinorPerMajor,
            ScoreFactor.AverageDaysToPay => x.AverageDaysToPay,
            ScoreFactor.LatePayments12m => x.LatePayments12m,
            ScoreFactor.WorstDpd12m => x.WorstDpd12m,
            ScoreFactor.Utilisation => x.UtilisationPct,
            _ => 0,
        };
        foreach (Band b in f.Bands) if (b.AtMost is null || value <= b.AtMost) return b.Points;
        return f.DefaultPoints;
    }

    /// <summary>The model a new desk starts with (version 1); risk edits it as a new version.</summary>
    public static ScoringModel Default() => new()
    {
        Version = 1,
        Factors =
        [
            new() { Factor = ScoreFactor.CustomerType, Weight = 10, Values = new() { ["Government"] = 90, ["Enterprise"] = 75, ["Sme"] = 55, ["Individual"] = 40 }, DefaultPoints = 40 },
            new() { Factor = ScoreFactor.YearsOfCooperation, Weight = 10, Bands = [new() { AtMost = 0, Points = 20 }, new() { AtMost = 2, Points = 50 }, new() { AtMost = 5, Points = 75 }, new() { Points = 95 }] },
            new() { Factor = ScoreFactor.Volume12m, Weight = 15, Bands = [new() { AtMost = 100_000, Points = 30 }, new() { AtMost = 1_000_000, Points = 60 }, new() { AtMost = 10_000_000, Points = 80 }, new() { Points = 95 }] },
            new() { Factor = ScoreFactor.AverageDaysToPay, Weight = 15, Bands = [new() { AtMost = 30, Points = 95 }, new() { AtMost = 45, Points = 75 }, new() { AtMost = 60, Points = 50 }, new() { Points = 20 }] },
            new() { Factor = ScoreFactor.LatePayments12m, Weight = 15, Bands = [new() { AtMost = 0, Points = 100 }, new() { AtMost = 1, Points = 70 }, new() { AtMost = 3, Points = 40 }, new() { Points = 10 }] },
            new() { Factor = ScoreFactor.WorstDpd12m, Weight = 15, Bands = [new() { AtMost = 0, Points = 100 }, new() { AtMost = 30, Points = 60 }, new() { AtMost = 90, Points = 25 }, new() { Points = 0 }] },
            new() { Factor = ScoreFactor.Utilisation, Weight = 10, Bands = [new() { AtMost = 50, Points = 90 }, new() { AtMost = 80, Points = 70 }, new() { AtMost = 100, Points = 40 }, new() { Points = 10 }] },
            new() { Factor = ScoreFactor.ExternalRating, Weight = 10, Values = new() { ["AAA"] = 100, ["AA"] = 90, ["A"] = 80, ["BBB"] = 65, ["BB"] = 50, ["B"] = 35, ["C"] = 10 }, DefaultPoints = 50 },
        ],
        Suggestions = new()
        {
            ["A"] = new() { VolumeMonths = 3, CapMinor = 5_000_000 * 100L, FloorMinor = 200_000 * 100L, TermsDays = 60 },
            ["B"] = new() { VolumeMonths = 2, CapMinor = 2_000_000 * 100L, FloorMinor = 100_000 * 100L, TermsDays = 45 },
            ["C"] = new() { VolumeMonths = 1, CapMinor = 500_000 * 100L, FloorMinor = 20_000 * 100L, TermsDays = 30 },
            ["D"] = new() { VolumeMonths = 0, CapMinor = 0, TermsDays = 0 },
        },
    };
}

public sealed record ScorePart(ScoreFactor Factor, double Weight, int Points);

public sealed record ScoreResult(int ModelVersion, int Score, string Grade, long SuggestedLimitMinor, int SuggestedTermsDays, IReadOnlyList<ScorePart> Parts);

/// <summary>A stored score: which model version produced it, from which inputs.</summary>
public sealed class CustomerScore
{
    public long Id { get; set; }
    public long CustomerId { get; set; }
    public int ModelVersion { get; set; }
    public int Score { get; set; }
    public string Grade { get; set; } = "";
    public long SuggestedLimitMinor { get; set; }
    public int SuggestedTermsDays { get; set; }
    public string Inputs { get; set; } = "";
    /// <summary>Why this score was computed: "nightly", "event", "manual", or a downgrade rule's reason.</summary>
    public string Reason { get; set; } = "";
    public DateTimeOffset At { get; set; }
}

/// <summary>A stored scoring model version (the JSON of a <see cref="ScoringModel"/>).</summary>
public sealed class ScoringModelVersion
{
    public int Version { get; set; }
    public string Json { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A stored approval route policy version (the JSON of a <see cref="RoutePolicy"/>); the newest is in force.</summary>
public sealed class RoutePolicyVersion
{
    public int Version { get; set; }
    public string Json { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
