using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Desk.Web.Tests;

public class CollectionsPageTests
{
    [Fact]
    public async Task The_worklist_shows_the_delinquent_customers_one_may_see_largest_past_due_first()
    {
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync());
        await desk.AddUserAsync("col", "collections");
        await desk.AddUserAsync("sid", "sales");
        using (var scope = desk.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
            var now = DateTimeOffset.UtcNow;
            int today = DueRules.DayOf(now.ToUnixTimeMilliseconds());
            // The projection as the engine follower leaves it: the account's stage, past due and oldest due day.
            Customer C(string name, int dpd, long pastDue, string stage, string owner)
            {
                string uscc = TestData.NewUscc();
                var account = new EngineAccount { AccountId = RequestIds.MainAccountId(uscc), DelinquencyStage = stage, PastDueMinor = pastDue, ReceivablesMinor = pastDue + 1_000_00, OldestDueDay = today - dpd, OpenedAt = now };
                return new() { Uscc = uscc, LegalName = name, DpdDays = dpd, PastDueMinor = pastDue, OwnerUserName = owner, CreatedAt = now, UpdatedAt = now, Accounts = [account] };
            }
            db.Customers.AddRange(C("Small Late Co", 20, 5_000_00, DelinquencyStages.Watch, "sid"), C("Big Late Co", 45, 90_000_00, DelinquencyStages.FrozenDelinquent, "other"), C("On Time Co", 0, 0, DelinquencyStages.Current, "sid"));
            await db.SaveChangesAsync();
        }
        using var col = await DeskClient.SignedInAsync(desk.Address, "col");
        string page = await col.Http.GetStringAsync("/collections");
        int big = page.IndexOf("Big Late Co", StringComparison.Ordinal), small = page.IndexOf("Small Late Co", StringComparison.Ordinal);
        Assert.True(big > 0 && small > big, "largest past-due first");
        Assert.DoesNotContain("On Time Co", page);
        Assert.Contains("FROZEN_DELINQUENT", page); // the engine's stage, as projected
        Assert.Contains("¥90,000.00", page);
        Assert.DoesNotContain("Small Late Co", await col.Http.GetStringAsync("/collections?bucket=31-60"));

        using var sid = await DeskClient.SignedInAsync(desk.Address, "sid");
        string own = await sid.Http.GetStringAsync("/collections");
        Assert.Contains("Small Late Co", own);
        Assert.DoesNotContain("Big Late Co", own); // sales see their own customers only
        Assert.Contains("stage: one of CURRENT, WATCH", await col.Http.GetStringAsync("/collections?stage=late"));
    }
}

public class CollectionsPolicyStorageTests
{
    [Fact]
    public async Task Reminder_rules_and_templates_are_saved_as_data_audited_and_bad_ones_change_nothing()
    {
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync());
        using var scope = desk.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        var policy = await Desk.Web.Services.Policies.CollectionsAsync(db);
        Assert.Equal(3, policy.Rules.Count); // the defaults before anyone saved
        policy.Rules.Add(new ReminderRule { Name = "after-10", When = ReminderWhen.AfterDue, Days = 10, TemplateKey = "reminder-overdue", Channel = OutboxChannel.Webhook });
        string json = System.Text.Json.JsonSerializer.Serialize(policy, Desk.Web.Services.Policies.Json);
        Assert.Empty(await Desk.Web.Services.Policies.SaveCollectionsAsync(db, json, "risk1", DateTimeOffset.UtcNow));
        Assert.Equal(4, (await Desk.Web.Services.Policies.CollectionsAsync(db)).Rules.Count);

        var bad = await Desk.Web.Services.Policies.SaveCollectionsAsync(db, json.Replace("\"days\": 10", "\"days\": 0"), "risk1", DateTimeOffset.UtcNow);
        Assert.Contains("rules[3].days: 1..365", bad);
        Assert.Equal(10, (await Desk.Web.Services.Policies.CollectionsAsync(db)).Rules[3].Days); // unchanged
        Assert.Single(desk.With(d => d.Audit.Where(a => a.EntityType == "CollectionsPolicy").ToList()));
    }
}

public class CollectionCaseTests
{
    [Fact]
    public async Task A_collector_assigns_a_case_records_a_promise_and_an_escalation_raises_it_all_audited()
    {
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync());
        await desk.AddUserAsync("cole", "collections");
        await desk.AddUserAsync("sue", "sales");
        long id;
        string uscc = TestData.NewUscc();
        using (var scope = desk.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
            var now = DateTimeOffset.UtcNow;
            var projected = new EngineAccount { AccountId = RequestIds.MainAccountId(uscc), DelinquencyStage = DelinquencyStages.Watch, PastDueMinor = 8_000_00, OldestDueDay = DueRules.DayOf(now.ToUnixTimeMilliseconds()) - 20, OpenedAt = now };
            var lateCo = new Customer { Uscc = uscc, LegalName = "Late Payer Co", DpdDays = 20, PostedMinor = 8_000_00, PastDueMinor = 8_000_00, OwnerUserName = "sue", CreatedAt = now, UpdatedAt = now, Accounts = [projected] };
            db.Customers.Add(lateCo);
            await db.SaveChangesAsync();
            id = lateCo.Id;
        }
        string account = RequestIds.MainAccountId(uscc);
        using var cole = await DeskClient.SignedInAsync(desk.Address, "cole");
        var fields = () => new Dictionary<string, string> { ["customerId"] = id.ToString(), ["accountId"] = account };

        var refused = await cole.PostFormAsync("/collections?handler=Assign", new(fields()) { ["assignee"] = "sue" }, "/collections");
        Assert.Contains("assignee: &#x27;sue&#x27; is not an active user with the collections or manager role", await refused.Content.ReadAsStringAsync());
        Assert.Equal(System.Net.HttpStatusCode.Redirect, (await cole.PostFormAsync("/collections?handler=Assign", new(fields()) { ["assignee"] = "cole" }, "/collections")).StatusCode);
        string tomorrow = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-dd");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, (await cole.PostFormAsync("/collections?handler=Action",
            new(fields()) { ["kind"] = "PromiseToPay", ["text"] = "CFO promised", ["amount"] = "5000", ["date"] = tomorrow }, "/collections")).StatusCode);
        var noAmount = await cole.PostFormAsync("/collections?handler=Action", new(fields()) { ["kind"] = "PromiseToPay", ["text"] = "x", ["date"] = tomorrow }, "/collections");
        Assert.Contains("promised_amount: must be &gt; 0", await noAmount.Content.ReadAsStringAsync());
        await cole.PostFormAsync("/collections?handler=Action", new(fields()) { ["kind"] = "Escalation", ["text"] = "no answer for a week" }, "/collections");

        var c = desk.With(db => db.Cases.Include(x => x.Actions).Single(x => x.AccountId == account));
        Assert.Equal("cole", c.AssignedTo);
        Assert.True(c.Raised);
        Assert.Equal([(CollectionActionKind.PromiseToPay, 5_000_00L), (CollectionActionKind.Escalation, 0L)], c.Actions.OrderBy(a => a.Id).Select(a => (a.Kind, a.PromisedAmountMinor ?? 0)));
        Assert.Equal(["assign", "promisetopay", "escalation"], desk.With(db => db.Audit.Where(a => a.EntityType == "CollectionCase" && a.EntityId == account).OrderBy(a => a.Id).Select(a => a.Action).ToList()));
        string page = await cole.Http.GetStringAsync("/collections");
        Assert.Contains("CFO promised ¥5,000.00", page);

        using var sue = await DeskClient.SignedInAsync(desk.Address, "sue"); // sales see the worklist of their customers but cannot work cases
        Assert.DoesNotContain("handler=Assign", await sue.Http.GetStringAsync("/collections"));
    }
}
