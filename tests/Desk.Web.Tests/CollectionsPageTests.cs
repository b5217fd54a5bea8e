using Desk.Domain;
using Desk.Web.Data;
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
            Customer C(string name, int dpd, long posted, string owner) => new() { Uscc = TestData.NewUscc(), LegalName = name, DpdDays = dpd, PostedMinor = posted, OwnerUserName = owner, CreatedAt = now, UpdatedAt = now };
            db.Customers.AddRange(C("Small Late Co", 20, 5_000_00, "sid"), C("Big Late Co", 45, 90_000_00, "other"), C("On Time Co", 0, 70_000_00, "sid"));
            await db.SaveChangesAsync();
        }
        using var col = await DeskClient.SignedInAsync(desk.Address, "col");
        string page = await col.Http.GetStringAsync("/collections");
        int big = page.IndexOf("Big Late Co", StringComparison.Ordinal), small = page.IndexOf("Small Late Co", StringComparison.Ordinal);
        Assert.True(big > 0 && small > big, "largest past-due first");
        Assert.DoesNotContain("On Time Co", page);
        Assert.Contains("FROZEN_DELINQUENT", page); // 45 days with the default thresholds
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
