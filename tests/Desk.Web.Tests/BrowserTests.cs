using System.Text;
using Microsoft.Playwright;

namespace Desk.Web.Tests;

/// <summary>
/// The pages as people use them, in headless Chromium: Debian's /usr/bin/chromium driven by Playwright for .NET (its
/// node driver ships inside the NuGet package; no browser is ever downloaded: the executable path is set). Saves
/// screenshots of the main pages: into docs/screenshots/ (which README shows) only when DESK_SCREENSHOTS=1, otherwise into
/// the test output folder, so that a CI run leaves the work tree clean.
/// </summary>
public class BrowserTests
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private const float TimeoutMs = 20_000;

    public const string ScreenshotsVariable = "DESK_SCREENSHOTS";

    public static string ScreenshotDirectory()
    {
        if (Environment.GetEnvironmentVariable(ScreenshotsVariable) != "1")
        {
            string output = Path.Combine(AppContext.BaseDirectory, "screenshots");
            Directory.CreateDirectory(output);
            return output;
        }
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        string path = Path.Combine(dir?.FullName ?? throw new InvalidOperationException("Engine.sln not found"), "docs", "screenshots");
        Directory.CreateDirectory(path);
        return path;
    }

    internal static async Task<IPage> SignInAsync(IBrowser browser, DeskHost desk, string user)
    {
        var context = await browser.NewContextAsync(new() { BaseURL = desk.Address, ViewportSize = new() { Width = 1280, Height = 800 }, Locale = "zh-CN" });
        context.SetDefaultTimeout(TimeoutMs);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.FillAsync("#username", user);
        await page.FillAsync("#password", Users.Password);
        await page.ClickAsync("#sign-in");
        await page.WaitForURLAsync(url => !url.Contains("/login"));
        Assert.Contains(user, await page.TextContentAsync("#who"));
        return page;
    }

    [Fact]
    public async Task Sales_imports_and_applies_over_50000_two_approvers_approve_and_the_customer_page_shows_the_engine_limit()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: apt-get install -y chromium (.ci/run does this)");
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync());
        await desk.AddUserAsync("sam", "sales");
        await desk.AddUserAsync("fay", "finance");
        await desk.AddUserAsync("dora", "finance", "finance-director");
        string shots = ScreenshotDirectory();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true });

        // Sales signs in and imports a small portfolio; the preview names the bad row and field.
        var sam = await SignInAsync(browser, desk, "sam");
        string target = TestData.NewUscc();
        var csv = new StringBuilder("uscc,legal_name,initial_limit,terms_days,region,industry\n");
        csv.Append($"{target},上海恒通贸易有限公司,20000,30,华东,批发零售\n");
        string[] names = ["北京鑫达实业有限公司", "深圳瑞丰科技股份有限公司", "成都嘉禾物流有限公司", "武汉博远建设集团有限公司"];
        string[] regions = ["华北", "华南", "西南", "华中"];
        for (int i = 0; i < names.Length; i++) csv.Append($"{TestData.NewUscc()},{names[i]},{(i + 2) * 15000},45,{regions[i]},制造业\n");
        csv.Append("91310000BADCODE001,坏行 Bad Row Co,abc,30,华东,物流\n");
        await sam.GotoAsync("/customers/import");
        await sam.SetInputFilesAsync("#file", new FilePayload { Name = "customers.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(csv.ToString()) });
        await sam.ClickAsync("#preview");
        string preview = (await sam.TextContentAsync("#preview-result"))!;
        Assert.Contains("5 行有效，2 个问题", preview); // a zh-CN browser gets the Chinese pages
        Assert.Contains("initial_limit", await sam.TextContentAsync("#import-errors"));
        await sam.ScreenshotAsync(new() { Path = Path.Combine(shots, "import-preview.png"), FullPage = true });
        await sam.ClickAsync("#confirm-import");
        Assert.Contains("新建 5，更新 0，未变 0，开立引擎账户 5", await sam.TextContentAsync("#import-result"));

        await sam.GotoAsync("/customers");
        await sam.ScreenshotAsync(new() { Path = Path.Combine(shots, "customers.png"), FullPage = true });
        await sam.FillAsync("#search", target);
        await sam.ClickAsync("form.card button[type=submit]");
        await sam.ClickAsync("#customers a:has-text('上海恒通贸易有限公司')");
        Assert.Contains("20,000.00", await sam.TextContentAsync("#limit"));
        string customerUrl = sam.Url;

        // An application over 50,000: finance review, then the finance director.
        await sam.ClickAsync("#new-application");
        await sam.SelectOptionAsync("#kind", "LimitChange");
        await sam.FillAsync("#amount", "80000");
        await sam.FillAsync("#reason", "新签年度框架合同 new annual contract");
        await sam.ClickAsync("#submit-application");
        await sam.WaitForURLAsync(new System.Text.RegularExpressions.Regex(@"/applications/\d+$"));
        string applicationUrl = sam.Url;
        Assert.Contains("审批中", await sam.TextContentAsync("#status")); // InApproval

        foreach (string approver in new[] { "fay", "dora" })
        {
            var page = await SignInAsync(browser, desk, approver);
            await page.GotoAsync(applicationUrl);
            await page.FillAsync("#opinion", $"{approver}: 同意 agreed");
            await page.ClickAsync("#approve");
            await page.WaitForSelectorAsync($"#trail >> text={approver}");
            await page.Context.CloseAsync();
        }

        // The background write-back sends the new limit to the engine; the page shows it once it has.
        await Wait.UntilAsync(async () =>
        {
            await sam.GotoAsync(applicationUrl);
            return (await sam.TextContentAsync("#write-back"))!.Contains("完成"); // Done
        }, "the write-back to show Done on the application page");
        Assert.Contains("已批准", await sam.TextContentAsync("#status")); // Approved
        await sam.ScreenshotAsync(new() { Path = Path.Combine(shots, "application.png"), FullPage = true });

        await sam.GotoAsync(customerUrl);
        Assert.Contains("80,000.00", await sam.TextContentAsync("#limit")); // read live from the engine
        await sam.ScreenshotAsync(new() { Path = Path.Combine(shots, "customer-360.png"), FullPage = true });
    }

    [Fact]
    public void Screenshots_go_to_the_test_output_unless_DESK_SCREENSHOTS_is_1()
    {
        if (Environment.GetEnvironmentVariable(ScreenshotsVariable) == "1") return; // a screenshot run: docs/screenshots is meant
        string dir = ScreenshotDirectory();
        Assert.StartsWith(AppContext.BaseDirectory, dir);
        Assert.DoesNotContain(Path.Combine("docs", "screenshots"), dir);
    }
}
