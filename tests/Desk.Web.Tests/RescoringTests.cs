using System.Text.Json;
using Credit.V1;
using Desk.Domain;
using Engine.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Desk.Web.Tests;

/// <summary>Scores follow engine events through the follower; a configured downgrade submits a lower-limit application.</summary>
public class RescoringTests
{
    [Fact]
    public async Task Engine_events_rescore_the_customer_and_a_configured_downgrade_submits_one_lower_limit_application()
    {
        string engineAddress = await SharedEngine.AddressAsync();
        await using var desk = await DeskHost.StartAsync(engineAddress);
        await desk.AddUserAsync("sam", "sales");
        // The day's nightly rescoring runs at start; let it finish first so that only the follower scores this customer.
        await Wait.UntilAsync(() => Task.FromResult(desk.With(db => db.Settings.Any(s => s.Key == "scoring.nightly"))), "the nightly scoring of the empty desk");
        string uscc = TestData.NewUscc();
        long customerId;
        using (var scope = desk.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Data.DeskDb>();
            // Model version 2: as the default, but a downgrade opens an application for the lower limit.
            var model = ScoringModel.Default();
            model.DowngradeCreatesApplication = true;
            Assert.Empty(await Services.Policies.SaveScoringAsync(db, JsonSerializer.Serialize(model, Services.Policies.Json), "test", DateTimeOffset.UtcNow));
            var customers = scope.ServiceProvider.GetRequiredService<Services.CustomerService>();
            var (c, error) = await customers.CreateAsync(new Customer { Uscc = uscc, LegalName = "Epsilon Metals", OwnerUserName = "sam" }, "test");
            Assert.Null(error);
            var (_, openError) = await customers.OpenMainAccountAsync(c!, 100_000_00, 30, "test");
            Assert.Null(openError);
            // Two late payments in the window, as collections (issue 16) will record them.
            c!.LatePayments12m = 2;
            await db.SaveChangesAsync();
            customerId = c.Id;
        }

        // A purchase of ¥60,000 at the engine: the follower projects it and rescores the customer.
        using var engine = new CreditEngineClient(engineAddress);
        string account = RequestIds.MainAccountId(uscc);
        Assert.True((await engine.AuthorizeAsync(new AuthorizeRequest { RequestId = $"{uscc}-a1", AccountId = account, Amount = 60_000_00, Currency = "CNY", MerchantId = "m", Mcc = 5045 })).Approved);
        Assert.True((await engine.CaptureAsync(new CaptureRequest { RequestId = $"{uscc}-c1", AuthorizationId = $"{uscc}-a1", Amount = 60_000_00, Final = true })).Approved);
        await Wait.UntilAsync(() => Task.FromResult(desk.With(db => db.Applications.Any(a => a.CustomerId == customerId))), "the automatic application");

        var (score, app, customer) = desk.With(db => (
            db.Scores.Where(s => s.CustomerId == customerId).OrderBy(s => s.Id).ToList()[^1],
            db.Applications.Include(a => a.Steps).Single(a => a.CustomerId == customerId),
            db.Customers.Single(x => x.Id == customerId)));
        // Enterprise, new, ¥60,000 volume, 60 % used, 2 late payments: score 61 → B, one grade down → C.
        Assert.Equal("C", score.Grade);
        Assert.Equal(2, score.ModelVersion);
        Assert.Contains("engine events", score.Reason);
        Assert.Contains("one grade down", score.Reason);
        Assert.Equal(6_000_000, customer.Volume12mMinor);
        Assert.Equal(60, customer.UtilisationPct);
        // Grade C suggests one month of volume (¥5,000) but at least its floor of ¥20,000, below the ¥100,000 limit;
        // people decide it on the usual route.
        Assert.Equal(ApplicationKind.LimitChange, app.Kind);
        Assert.Equal(20_000_00, app.AmountMinor);
        Assert.Equal(Services.RescoringService.Actor, app.SubmittedBy);
        Assert.Equal(ApplicationStatus.InApproval, app.Status);
        Assert.Equal("finance-review", app.Steps.OrderBy(s => s.Index).First().Name);
        Assert.Contains("grade B → C", app.Reason);

        // More events while it is open rescore again but add no second application.
        var repaid = await engine.RepayAsync(new RepayRequest { RequestId = $"{uscc}-r1", AccountId = account, Amount = 10_000_00 });
        Assert.True(repaid.Approved);
        long repaySeq = repaid.Sequence;
        await Wait.UntilAsync(() => Task.FromResult(desk.With(db => db.EngineAccounts.Single(a => a.AccountId == account).ProjectedSequence) >= repaySeq), "the follower to apply the repayment");
        Assert.Equal(1, desk.With(db => db.Applications.Count(a => a.CustomerId == customerId)));
    }
}
