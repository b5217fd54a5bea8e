using System.Net;
using System.Text.Json;
using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Desk.Web.Tests;

/// <summary>The collections rules on the engine's own dues and days (a private engine with the test clock).</summary>
public class CollectionRulesFlowTests
{
    private const string Secret = "rules-webhook-secret";
    /// <summary>The job rounds run when the test says (the first runs at start), so counts are the test's own.</summary>
    private const string ManualJobs = "--Desk:JobIntervalMs=600000";

    private static async Task UseWebhookRulesAsync(LifecycleWorld world)
    {
        using var scope = world.Desk.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        var policy = await Policies.CollectionsAsync(db);
        foreach (var rule in policy.Rules) rule.Channel = OutboxChannel.Webhook; // the team's chat robot
        Assert.Empty(await Policies.SaveCollectionsAsync(db, JsonSerializer.Serialize(policy, Policies.Json), "test", DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task Reminders_go_out_before_on_and_after_the_projected_due_date_once_each_with_customer_amount_dpd_and_due_date()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var world = await LifecycleWorld.StartAsync($"--Desk:Outbox:CollectionsWebhookUrl={receiver.Url}", $"--Desk:Outbox:WebhookSecret={Secret}",
            "--Desk:Outbox:BackoffMs=1", "--Desk:Outbox:BackoffMaxMs=4", ManualJobs);
        await UseWebhookRulesAsync(world);
        var (_, account) = await world.CustomerAsync("杭州永泰贸易有限公司", 50_000_00, 5, "s1", "华东", "批发零售");
        await world.PurchaseAsync(account, 2_000_00);
        string dueDate = DueRules.DateOf(world.EngineDay + 5).ToString("yyyy-MM-dd");

        var jobs = world.Desk.Services.GetRequiredService<DeskJobs>();
        async Task<JsonElement> NextAsync(int count)
        {
            await world.SyncAsync();
            await jobs.RemindersAsync(CancellationToken.None);
            await jobs.OutboxAsync(CancellationToken.None);
            await Wait.UntilAsync(() => Task.FromResult(receiver.Requests.Count >= count), $"{count} reminder(s) at the webhook receiver");
            return JsonDocument.Parse(receiver.Requests.ToArray()[count - 1].Body).RootElement;
        }

        await world.AdvanceDaysAsync(2); // 3 days before the due date
        var before = await NextAsync(1);
        Assert.Equal(("before-3", "杭州永泰贸易有限公司", "¥2,000.00", dueDate, 0), (before.GetProperty("rule").GetString(), before.GetProperty("customer").GetString(),
            before.GetProperty("amount").GetString(), before.GetProperty("dueDate").GetString(), before.GetProperty("dpd").GetInt32()));
        Assert.Contains($"将于 {dueDate} 到期", before.GetProperty("text").GetString());
        Assert.StartsWith("sha256=", receiver.Requests.First().Signature);

        await world.AdvanceDaysAsync(3); // the due date
        Assert.Equal("on-due", (await NextAsync(2)).GetProperty("rule").GetString());
        await world.RepayAsync(account, 500_00); // partial: the reminder after the date names what is still open
        await world.AdvanceDaysAsync(3);
        var after = await NextAsync(3);
        Assert.Equal(("after-3", "¥1,500.00", 3), (after.GetProperty("rule").GetString(), after.GetProperty("amount").GetString(), after.GetProperty("dpd").GetInt32()));
        Assert.Contains("已逾期 3 天", after.GetProperty("text").GetString());

        await world.AdvanceDaysAsync(1);
        await world.SyncAsync();
        await jobs.RemindersAsync(CancellationToken.None);
        await jobs.OutboxAsync(CancellationToken.None);
        Assert.Equal(3, world.Desk.With(db => db.Outbox.Count(m => m.TriggerKey.StartsWith("reminder:" + account))));
        Assert.Equal(3, receiver.Requests.Count);
    }

    [Fact]
    public async Task A_promise_is_judged_once_after_its_date_on_the_projected_payments_and_a_broken_one_raises_the_case()
    {
        await using var world = await LifecycleWorld.StartAsync(ManualJobs);
        await world.Desk.AddUserAsync("cora", "collections");
        var (customer, account) = await world.CustomerAsync("南京瑞丰实业有限公司", 50_000_00, 2, "s1", "华东", "制造业");
        await world.PurchaseAsync(account, 5_000_00);
        await world.AdvanceDaysAsync(3);
        await world.SyncAsync();
        using var cora = await DeskClient.SignedInAsync(world.Desk.Address, "cora");
        string casePath = $"/collections/case/{account}";
        Assert.Contains("¥5,000.00", await cora.Http.GetStringAsync(casePath)); // past due, from the projection

        async Task PromiseAsync(string amount)
        {
            string by = DueRules.DateOf(world.EngineDay + 1).ToString("yyyy-MM-dd");
            var posted = await cora.PostFormAsync(casePath + "?handler=Action", new() { ["kind"] = "PromiseToPay", ["text"] = "CFO called back", ["amount"] = amount, ["date"] = by }, casePath);
            Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        }
        var jobs = world.Desk.Services.GetRequiredService<DeskJobs>();

        await PromiseAsync("1000");
        await world.RepayAsync(account, 1_000_00);
        await world.AdvanceDaysAsync(2);
        await world.SyncAsync();
        Assert.Equal(0, await jobs.PromisesAsync(CancellationToken.None));
        var kept = await world.CaseAsync(account);
        Assert.False(kept!.Raised);
        Assert.Contains(kept.Actions, a => a.Kind == CollectionActionKind.Note && a.Text.EndsWith("¥1,000.00 paid — kept"));

        await PromiseAsync("4000");
        await world.RepayAsync(account, 500_00);
        await world.AdvanceDaysAsync(2);
        await world.SyncAsync();
        Assert.Equal(1, await jobs.PromisesAsync(CancellationToken.None));
        Assert.Equal(0, await jobs.PromisesAsync(CancellationToken.None)); // judged once
        var broken = await world.CaseAsync(account);
        Assert.True(broken!.Raised);
        Assert.Single(broken.Actions, a => a.Kind == CollectionActionKind.BrokenPromise && a.Text.Contains("¥4,000.00") && a.Text.EndsWith("¥500.00 paid — broken"));
        Assert.Single(world.Desk.With(db => db.Audit.Where(a => a.EntityType == "CollectionCase" && a.EntityId == account && a.Action == "broken-promise").ToList()));
        Assert.Equal(customer.Id, broken.CustomerId);
    }

    [Fact]
    public async Task At_WATCH_the_senior_collector_with_the_fewest_open_tasks_gets_the_task_and_without_one_it_waits_in_the_queue()
    {
        await using var world = await LifecycleWorld.StartAsync();
        var (_, first) = await world.CustomerAsync("Queue Co", 10_000_00, 1, "s1", "华东", "制造业");
        await world.PurchaseAsync(first, 1_000_00);
        await world.AdvanceDaysAsync(17); // 16 days past due: WATCH at 15
        await world.SyncAsync();
        var queued = await world.DbAsync(db => db.CollectionTasks.AsNoTracking().SingleAsync(t => t.AccountId == first));
        Assert.Null(queued.AssignedTo);
        Assert.Equal(CollectionTask.SeniorCollectorTitle, queued.Queue);

        await world.Desk.AddUserAsync("sen1", "collections", CollectionTask.SeniorCollectorTitle);
        await world.Desk.AddUserAsync("sen2", "collections", CollectionTask.SeniorCollectorTitle);
        var accounts = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            var (_, account) = await world.CustomerAsync($"Watch Co {i}", 10_000_00, 1, "s1", "华东", "制造业");
            await world.PurchaseAsync(account, 1_000_00);
            accounts.Add(account);
        }
        await world.AdvanceDaysAsync(17);
        await world.SyncAsync();
        var tasks = await world.DbAsync(db => db.CollectionTasks.AsNoTracking().Where(t => accounts.Contains(t.AccountId)).ToListAsync());
        Assert.Equal(["sen1", "sen2"], tasks.Select(t => t.AssignedTo!).Order());
        var c = await world.CaseAsync(accounts[0]);
        Assert.Equal(tasks.Single(t => t.AccountId == accounts[0]).AssignedTo, c!.AssignedTo); // an unassigned case goes to its senior collector
    }
}
