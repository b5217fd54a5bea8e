namespace Desk.Domain.Tests;

public class RoutingTests
{
    private static IReadOnlyList<string> StepsFor(long amountMajor)
    {
        var (_, steps) = RoutePolicy.Default().Resolve(new RoutingInput(amountMajor * 100, "B", null, CustomerType.Enterprise, ApplicationKind.NewLimit));
        return steps.Select(s => s.Name).ToList();
    }

    [Fact]
    public void Default_route_up_to_50000_goes_finance_review_then_sales_director() =>
        Assert.Equal(["finance-review", "sales-director"], StepsFor(50_000));

    [Fact]
    public void Default_route_above_50000_goes_to_the_finance_director() =>
        Assert.Equal(["finance-review", "finance-director"], StepsFor(50_001));

    [Fact]
    public void Default_route_above_500000_adds_the_ceo() =>
        Assert.Equal(["finance-review", "finance-director", "ceo"], StepsFor(500_001));

    [Fact]
    public void First_matching_route_wins_and_conditions_combine()
    {
        var policy = RoutePolicy.Default();
        policy.Routes.Insert(0, new RouteDefinition
        {
            Name = "grade-d",
            Match = new RouteCondition { Grades = ["D"] },
            Steps = [new StepDefinition { Name = "risk", Approvers = ["role:risk", "role:manager"], Mode = StepMode.AllOf }],
        });
        Assert.Equal("grade-d", policy.Resolve(new RoutingInput(100, "D", null, CustomerType.Sme, ApplicationKind.LimitChange)).Route.Name);
        Assert.Equal("default", policy.Resolve(new RoutingInput(100, "A", null, CustomerType.Sme, ApplicationKind.LimitChange)).Route.Name);
    }

    [Fact]
    public void Policy_validation_names_the_bad_field()
    {
        var policy = new RoutePolicy { Routes = [new RouteDefinition { Name = "x", Steps = [new StepDefinition { Name = "s", Approvers = ["boss"] }] }] };
        Assert.Contains("routes[0].steps[0].approvers: 'boss' is not role:NAME, title:NAME or user:NAME", policy.Validate());
        Assert.Empty(RoutePolicy.Default().Validate());
    }
}
