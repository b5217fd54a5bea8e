using System.Text.Json;
using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Desk.Web.Tests;

/// <summary>
/// Collections and the cockpit in headless Chromium (as <see cref="BrowserTests"/>), on a private engine whose clock the
/// test moves: a collector walks a case from the reminder to the cure, a manager reads the cockpit and drills down.
/// Screenshots of the worklist, the case and the cockpit go where <see cref="BrowserTests.ScreenshotDirectory"/> says.
/// </summary>
public class CollectionsBrowserTests
{
    [Fact]
    public async Task A_collector_gets_the_reminder_at_the_webhook_notes_a_call_records_a_promise_and_the_cure_closes_the_case()
    {
        Assert.True(File.Exists(BrowserTests.ChromiumPath), $"{BrowserTests.ChromiumPath} is missing: apt-get install -y chromium (.ci/run does this)");
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var world = await LifecycleWorld.StartAsync($"--Desk:Outbox:CollectionsWebhookUrl={receiver.Url}", "--Desk:Outbox:WebhookSecret=browser-secret");
        await world.Desk.AddUserAsync("colin", "collections");
        using (var scope = world.Desk.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
            var policy = await Policies.CollectionsAsync(db);
            foreach (var rule in policy.Rules) rule.Channel = OutboxChannel.Webhook;
            Assert.Empty(await Policies.SaveCollectionsAsync(db, JsonSerializer.Serialize(policy, Policies.Json), "test", DateTimeOffset.UtcNow));
        }
        var (_, account) = await world.CustomerAsync("广州天成物流有限公司", 80_000_00, 5, "s1", "华南", "物流");
        var (_, other) = await world.CustomerAsync("重庆聚力建设集团有限公司", 80_000_00, 5, "s2", "西南", "建筑");
        await world.PurchaseAsync(account, 12_000_00);
        await world.PurchaseAsync(other, 3_000_00);

        // Three days before the due date the reminder reaches the team's webhook (the chat robot).
        await world.AdvanceDaysAsync(2);
        await Wait.UntilAsync(() => Task.FromResult(receiver.Requests.Any(r => r.Body.Contains("广州天成物流有限公司") && r.Body.Contains("before-3"))), "the reminder at the webhook receiver");
        // Fifteen days past due: WATCH, the case opens itself.
        await world.AdvanceDaysAsync(18);
        await world.SyncAsync();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = BrowserTests.ChromiumPath, Headless = true });
        string shots = BrowserTests.ScreenshotDirectory();
        var page = await BrowserTests.SignInAsync(browser, world.Desk, "colin");
        await page.GotoAsync("/collections");
        var rows = page.Locator("#worklist tr");
        Assert.Contains("广州天成物流有限公司", await rows.Nth(1).TextContentAsync()); // largest past-due first
        Assert.Contains("WATCH", await rows.Nth(1).TextContentAsync());
        Assert.Contains("¥12,000.00", await rows.Nth(1).TextContentAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "collections-worklist.png"), FullPage = true });

        await page.ClickAsync($"#worklist a.case:has-text('{account}')");
        Assert.Equal("WATCH", await page.TextContentAsync("#stage"));
        Assert.Equal("15", await page.TextContentAsync("#dpd"));
        Assert.Contains("¥12,000.00", await page.TextContentAsync("#dues"));
        Assert.Contains("高级催收任务", await page.TextContentAsync("#history")); // the senior-collector task at WATCH
        await page.SelectOptionAsync("#kind", "Call");
        await page.FillAsync("#text", "打电话给财务，答应下周付款 called finance");
        await page.ClickAsync("#record");
        await page.WaitForSelectorAsync("#history >> text=called finance");
        await page.SelectOptionAsync("#kind", "PromiseToPay");
        await page.FillAsync("#text", "承诺付清 promised in full");
        await page.FillAsync("#amount", "12000");
        await page.FillAsync("#date", DueRules.DateOf(world.EngineDay + 3).ToString("yyyy-MM-dd"));
        await page.ClickAsync("#record");
        await page.WaitForSelectorAsync("#history >> text=¥12,000.00 @");
        Assert.Equal("进行中", await page.TextContentAsync("#status")); // Open

        // The customer pays: the engine cures the account; the case closes itself, the cure is in its history.
        await world.RepayAsync(account, 12_000_00);
        await world.SyncAsync();
        await page.ReloadAsync();
        Assert.Equal("已结案", await page.TextContentAsync("#status")); // Closed
        Assert.Equal("CURRENT", await page.TextContentAsync("#stage"));
        Assert.Contains("逾期解除", await page.TextContentAsync("#history")); // Cure
        Assert.Contains("¥12,000.00", await page.TextContentAsync("#payments"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "collections-case.png"), FullPage = true });
    }

    [Fact]
    public async Task A_manager_sees_the_cockpit_charts_drawn_from_the_engine_portfolio_and_drills_down_to_the_customers()
    {
        Assert.True(File.Exists(BrowserTests.ChromiumPath), $"{BrowserTests.ChromiumPath} is missing: apt-get install -y chromium (.ci/run does this)");
        await using var world = await LifecycleWorld.StartAsync();
        await world.Desk.AddUserAsync("mona", "manager");
        string[] names = ["上海华盛贸易有限公司", "北京鑫达实业有限公司", "深圳瑞丰科技股份有限公司", "成都嘉禾物流有限公司", "武汉博远建设集团有限公司", "西安宏图信息技术有限公司"];
        string[] regions = ["华东", "华北", "华南", "西南", "华中", "西北"];
        string[] industries = ["批发零售", "制造业", "信息技术", "物流", "建筑", "信息技术"];
        var accounts = new List<string>();
        for (int i = 0; i < names.Length; i++)
        {
            var (_, account) = await world.CustomerAsync(names[i], (i + 2) * 20_000_00L, 10, $"sales{1 + i % 3}", regions[i], industries[i]);
            await world.PurchaseAsync(account, (i + 1) * 3_000_00L);
            accounts.Add(account);
        }
        await world.AdvanceDaysAsync(25);
        for (int i = 0; i < accounts.Count; i += 2) await world.RepayAsync(accounts[i], (i + 1) * 1_000_00L);
        await world.AdvanceDaysAsync(20);
        for (int i = 0; i < accounts.Count; i++) await world.ForcePostAsync(accounts[i], 2_000_00); // frozen accounts decline authorizations
        await world.RepayAsync(accounts[1], 1_500_00);
        await world.SyncAsync();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = BrowserTests.ChromiumPath, Headless = true });
        var page = await BrowserTests.SignInAsync(browser, world.Desk, "mona");
        await page.ClickAsync("#cockpit-link");
        await page.WaitForURLAsync(url => url.EndsWith("/cockpit"));
        // Every chart exists and has data: Chart.js instances with a value above zero.
        var charts = await page.EvaluateAsync<Dictionary<string, int>>(
            "() => Object.fromEntries(Object.entries(window.deskCharts).map(([name, chart]) => [name, chart.data.datasets.reduce((n, d) => n + d.data.filter(v => v > 0).length, 0)]))");
        Assert.Equal(["aging", "grades", "industries", "new-past-due", "rate", "regions", "regions-collected", "salespeople"], charts.Keys.Order());
        foreach (var (name, nonZero) in charts) Assert.True(nonZero > 0, $"chart {name} has no value above zero");
        Assert.Contains("¥", await page.TextContentAsync("#tile-receivables"));
        Assert.Equal(names.Length, await page.Locator("#table-top-overdue tr").CountAsync() - 1); // every customer is late here: one row each (at most 10)
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserTests.ScreenshotDirectory(), "cockpit.png"), FullPage = true });

        // A click on a bar of a chart opens the customers behind it (Chart.js onClick → the row's drill-down link).
        await page.Locator("#chart-industries").ScrollIntoViewIfNeededAsync();
        var bar = await page.EvaluateAsync<double[]>("() => { const c = window.deskCharts.industries; const p = c.getDatasetMeta(0).data[0].getCenterPoint(); const r = c.canvas.getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }");
        await page.Mouse.ClickAsync((float)bar[0], (float)bar[1]);
        await page.WaitForURLAsync(url => url.Contains("/cockpit/customers?figure=industry"));
        Assert.True(int.Parse((await page.TextContentAsync("#total"))!) > 0, "customers behind the industry bar");
        await page.GotoAsync("/cockpit");

        // Drill down from the aging table to the customers behind the 31-60 bucket, then to one of them.
        await page.ClickAsync("#table-aging a:has-text('31-60')");
        await page.WaitForURLAsync(url => url.Contains("/cockpit/customers?figure=aging"));
        int total = int.Parse((await page.TextContentAsync("#total"))!);
        Assert.True(total > 0, "customers behind the 31-60 bucket");
        Assert.Equal(total, await page.Locator("#drill tr").CountAsync() - 1);
        await page.ClickAsync("#drill a >> nth=0");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex(@"/customers/\d+$"));
        // And the export of a table is a spreadsheet.
        await page.GotoAsync("/cockpit");
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#section-aging a.export-xlsx"));
        Assert.EndsWith(".xlsx", download.SuggestedFilename);
        var rows = Spreadsheets.ReadXlsx(File.OpenRead((await download.PathAsync())!));
        Assert.Equal(["bucket", "open", "dues"], rows[0]);
        Assert.Equal(CollectionRules.Buckets, rows.Skip(1).Select(r => r[0]));
    }
}
