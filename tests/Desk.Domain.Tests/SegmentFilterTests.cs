namespace Desk.Domain.Tests;

public class SegmentFilterTests
{
    private static readonly Tag Vip = new() { Id = 1, Name = "vip" };

    private static readonly Customer[] Customers =
    [
        new() { Id = 1, LegalName = "East Steel", Region = "华东", Grade = "A", DpdDays = 0, UtilisationPct = 40, LimitMinor = 100_000_00, Stage = LifecycleStage.Active, Tags = [new() { TagId = 1, Tag = Vip }] },
        new() { Id = 2, LegalName = "East Paper", Region = "华东", Grade = "C", DpdDays = 45, UtilisationPct = 95, LimitMinor = 20_000_00, Stage = LifecycleStage.Repaying },
        new() { Id = 3, LegalName = "North Foods Co", Region = "华北", Grade = "B", DpdDays = 0, UtilisationPct = 70, LimitMinor = 60_000_00, Stage = LifecycleStage.Active, Tags = [new() { TagId = 1, Tag = Vip }] },
        new() { Id = 4, LegalName = "South Lead", Region = "华南", Grade = null, Stage = LifecycleStage.Lead },
    ];

    private static long[] Matching(string filter)
    {
        var predicate = SegmentFilter.Parse(filter).Compile();
        return Customers.Where(predicate).Select(c => c.Id).ToArray();
    }

    [Fact]
    public void And_or_not_and_parentheses_combine() =>
        Assert.Equal([1, 3], Matching("(region = 华东 AND NOT dpd > 30) OR (grade in A,B AND tag:vip)"));

    [Fact]
    public void Not_binds_tighter_than_and() => Assert.Equal([3, 4], Matching("NOT region = 华东 AND NOT region = 华南 OR stage = lead"));

    [Fact]
    public void Money_fields_are_major_units() => Assert.Equal([1, 3], Matching("limit >= 50000"));

    [Fact]
    public void Contains_and_quoted_values() => Assert.Equal([3], Matching("name ~ \"Foods Co\""));

    [Fact]
    public void Empty_filter_matches_everyone() => Assert.Equal(4, Matching("  ").Length);

    [Theory]
    [InlineData("colour = red", "unknown field 'colour' at position 1")]
    [InlineData("dpd > many", "'dpd' needs a number, got 'many'")]
    [InlineData("(grade = A", "the filter ends where ')' was expected")]
    [InlineData("stage = gone", "'gone' is not a stage")]
    [InlineData("grade > A", "'>' does not apply to text field 'grade'")]
    public void Bad_filters_say_where_and_why(string filter, string expected)
    {
        var error = Assert.Throws<SegmentFilterException>(() => SegmentFilter.Parse(filter));
        Assert.StartsWith(expected, error.Message);
    }
}

public class SegmentFilterFieldRuleTests
{
    [Theory]
    [InlineData("grade = A")]
    [InlineData("region = 华东 AND NOT score < 40")]
    [InlineData("rating in AAA,AA")]
    public void Credit_report_fields_are_refused_to_users_who_may_not_see_credit_reports(string filter)
    {
        var e = Assert.Throws<SegmentFilterException>(() => SegmentFilter.Parse(filter, creditReportsVisible: false));
        Assert.Contains("visible only to finance, risk and manager", e.Message);
        SegmentFilter.Parse(filter, creditReportsVisible: true); // the same filter is fine for finance
    }

    [Fact]
    public void Other_fields_stay_usable_without_credit_reports() => SegmentFilter.Parse("dpd > 30 AND tag:vip", creditReportsVisible: false);
}
