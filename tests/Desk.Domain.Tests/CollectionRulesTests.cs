namespace Desk.Domain.Tests;

public class CollectionRulesTests
{
    [Theory]
    [InlineData(0, "current")]
    [InlineData(1, "1-30")]
    [InlineData(30, "1-30")]
    [InlineData(31, "31-60")]
    [InlineData(90, "61-90")]
    [InlineData(180, "91-180")]
    [InlineData(181, "180+")]
    public void Days_past_due_fall_in_the_lifecycle_buckets(int dpd, string bucket) => Assert.Equal(bucket, CollectionRules.Bucket(dpd));

    private static DelinquentAccount A(string id, int dpd, long pastDue, string stage = DelinquencyStages.Watch) =>
        new(1, id, id, "CNY", stage, dpd, pastDue, new Dictionary<string, long>(), null, null);

    [Fact]
    public void The_worklist_puts_the_largest_past_due_first_and_filters_by_stage_and_bucket()
    {
        var accounts = new[] { A("a", 20, 5_000), A("b", 40, 90_000, DelinquencyStages.FrozenDelinquent), A("c", 16, 90_000), A("d", 5, 0) };
        Assert.Equal(["b", "c", "a"], CollectionRules.Worklist(accounts).Select(x => x.AccountId)); // d has nothing past due
        Assert.Equal(["c", "a"], CollectionRules.Worklist(accounts, stage: DelinquencyStages.Watch).Select(x => x.AccountId));
        Assert.Equal(["b"], CollectionRules.Worklist(accounts, bucket: "31-60").Select(x => x.AccountId));
    }

    [Fact]
    public void A_promise_is_broken_when_less_than_promised_was_repaid_by_its_date()
    {
        var at = new DateTimeOffset(2026, 12, 1, 2, 0, 0, TimeSpan.Zero);
        var kept = new CollectionAction(CollectionActionKind.PromiseToPay, "col", at, "", 1_000_00, new DateOnly(2026, 12, 5));
        var broken = kept with { PromisedAmountMinor = 5_000_00 };
        var pending = kept with { PromisedDate = new DateOnly(2026, 12, 9) };
        long Repaid(DateTimeOffset from, DateOnly to) => 2_000_00;
        Assert.Equal([broken], CollectionRules.BrokenPromises([kept, broken, pending], new DateOnly(2026, 12, 6), Repaid));
    }

    [Fact]
    public void A_promise_without_amount_or_date_is_refused_naming_the_field()
    {
        var today = new DateOnly(2026, 12, 2);
        var p = new CollectionAction(CollectionActionKind.PromiseToPay, "col", DateTimeOffset.UtcNow, "", null, today);
        Assert.Equal("promised_amount: must be > 0", CollectionRules.Validate(p, today));
        Assert.Equal("promised_date: is required for a promise to pay", CollectionRules.Validate(p with { PromisedAmountMinor = 1, PromisedDate = null }, today));
        Assert.Equal("promised_date: must not be in the past", CollectionRules.Validate(p with { PromisedAmountMinor = 1, PromisedDate = today.AddDays(-1) }, today));
        Assert.Equal("text: is required", CollectionRules.Validate(new CollectionAction(CollectionActionKind.Call, "col", DateTimeOffset.UtcNow, " "), today));
        Assert.Null(CollectionRules.Validate(p with { PromisedAmountMinor = 1 }, today));
    }
}
