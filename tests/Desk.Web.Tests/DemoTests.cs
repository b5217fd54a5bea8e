using Desk.Domain;
using Desk.Web.Services;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Desk.Web.Tests;

public class DemoTests
{
    [Fact]
    public async Task The_demo_has_late_payers_whose_dues_stages_and_cases_come_from_the_engine()
    {
        await using var engine = await EngineHost.StartAsync(); // its own: the demo's account ids are fixed
        await using var desk = await DeskHost.StartAsync(engine.Address, null, "--Desk:DemoCustomers=48");
        await Demo.FillAsync(desk.Services, desk.Services.GetRequiredService<ILoggerFactory>().CreateLogger("demo"));
        using var scope = desk.Services.CreateScope();
        var gateway = scope.ServiceProvider.GetRequiredService<EngineGateway>();
        long head = (await gateway.Client.Queries.GetPortfolioAsync(new Credit.V1.GetPortfolioRequest())).Sequence;
        await Wait.UntilAsync(async () => (await desk.With(db => ProjectionState.ReadAsync(db))).Position >= head, "the desk to follow the demo's events", 60_000);

        var late = desk.With(db => db.EngineAccounts.AsNoTracking().Where(a => a.PastDueMinor > 0).ToList());
        Assert.NotEmpty(late);
        var portfolio = await gateway.Client.Queries.GetPortfolioAsync(new Credit.V1.GetPortfolioRequest());
        Assert.Equal(portfolio.Receivables, desk.With(db => db.Customers.Sum(c => c.ReceivablesMinor)));
        // Every account the engine put in a delinquency stage has an open case with the stage change in its history.
        var staged = desk.With(db => db.EngineAccounts.AsNoTracking().Where(a => a.DelinquencyStage != DelinquencyStages.Current).Select(a => a.AccountId).ToList());
        Assert.NotEmpty(staged);
        var cases = desk.With(db => db.Cases.AsNoTracking().Include(c => c.Actions).Where(c => staged.Contains(c.AccountId)).ToList());
        Assert.Equal(staged.Order(), cases.Select(c => c.AccountId).Order());
        Assert.All(cases, c => Assert.Contains(c.Actions, a => a.Kind == CollectionActionKind.StageChange));
    }
}
