using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Desk.Domain;
using Desk.Web.Localization;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Tests;

public partial class LocalizationTests
{
    private static async Task<DeskClient> SignInAsync(DeskHost desk, string user, string? acceptLanguage)
    {
        var client = new DeskClient(desk.Address);
        if (acceptLanguage is not null) client.Http.DefaultRequestHeaders.Add("Accept-Language", acceptLanguage);
        var response = await client.PostFormAsync("/login", new() { ["username"] = user, ["password"] = Users.Password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    private static async Task SetLanguageAsync(DeskHost desk, string user, string? language)
    {
        using var scope = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.CreateScope(desk.Services);
        var db = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Desk.Web.Data.DeskDb>(scope.ServiceProvider);
        var row = await db.Users.SingleAsync(u => u.UserName == user);
        row.Language = language;
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task A_zh_browser_sees_Chinese_by_default_and_any_other_browser_English()
    {
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync());
        await desk.AddUserAsync("zoe", "finance");
        using var zh = await SignInAsync(desk, "zoe", "zh-CN,zh;q=0.9,en;q=0.8");
        string chinese = await zh.Http.GetStringAsync("/customers");
        Assert.Contains("<h1>客户</h1>", chinese);
        Assert.Contains("<html lang=\"zh-CN\">", chinese);
        Assert.Contains("新建客户", chinese);

        using var fr = await SignInAsync(desk, "zoe", "fr-FR,fr;q=0.9");
        string english = await fr.Http.GetStringAsync("/customers");
        Assert.Contains("<h1>Customers</h1>", english);
        Assert.DoesNotContain("新建客户", english);
        using var none = await SignInAsync(desk, "zoe", null);
        Assert.Contains("<h1>Customers</h1>", await none.Http.GetStringAsync("/customers"));
    }

    [Fact]
    public async Task A_user_whose_setting_is_English_sees_English_labels_from_a_zh_browser()
    {
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync());
        await desk.AddUserAsync("ed", "finance");
        await SetLanguageAsync(desk, "ed", "en");
        using var client = await SignInAsync(desk, "ed", "zh-CN");
        string page = await client.Http.GetStringAsync("/applications");
        Assert.Contains("<h1>Credit applications</h1>", page);
        Assert.Contains(">Customers</a>", page);
        Assert.DoesNotContain("授信申请", page);
    }

    [Fact]
    public async Task Switching_the_language_is_stored_on_the_user_and_kept_at_the_next_sign_in()
    {
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync());
        await desk.AddUserAsync("lin", "sales");
        using var first = await SignInAsync(desk, "lin", "en-US");
        Assert.Contains("<h1>My desk</h1>", await first.Http.GetStringAsync("/"));

        var saved = await first.PostFormAsync("/settings", new() { ["language"] = "zh-CN" });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Contains("已保存。", await first.Http.GetStringAsync(saved.Headers.Location!.OriginalString)); // already in the new language
        Assert.Contains("<h1>工作台</h1>", await first.Http.GetStringAsync("/")); // and so is the session
        Assert.Equal("zh-CN", desk.With(db => db.Users.Single(u => u.UserName == "lin").Language));
        Assert.Contains(desk.With(db => db.Audit.Where(a => a.EntityId == "lin").Select(a => a.Action).ToList()), a => a == "language");

        using var again = await SignInAsync(desk, "lin", "en-US"); // an English browser, a new session
        Assert.Contains("<h1>工作台</h1>", await again.Http.GetStringAsync("/"));

        var refused = await again.PostFormAsync("/settings", new() { ["language"] = "klingon" });
        Assert.Contains("language: &#x27;klingon&#x27; is not one of zh-CN, en", await refused.Content.ReadAsStringAsync());
        Assert.Equal("zh-CN", desk.With(db => db.Users.Single(u => u.UserName == "lin").Language)); // nothing changed

        await again.PostFormAsync("/settings", new() { ["language"] = "" }); // follow the browser again
        Assert.Null(desk.With(db => db.Users.Single(u => u.UserName == "lin").Language));
        Assert.Contains("<h1>My desk</h1>", await again.Http.GetStringAsync("/"));
    }

    [Theory]
    [InlineData("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN")]
    [InlineData("zh", "zh-CN")]
    [InlineData("zh-TW", "zh-CN")]
    [InlineData("en-GB,zh;q=0.5", "en")]
    [InlineData("fr-FR, zh;q=0.3", "zh-CN")]
    [InlineData("fr-FR", "en")]
    [InlineData("", "en")]
    public void The_browser_language_of_highest_quality_that_the_desk_has_wins(string header, string expected) =>
        Assert.Equal(expected, DeskText.FromAcceptLanguage(header));

    [Fact]
    public void Every_key_used_by_a_page_and_every_enum_name_has_a_Chinese_text()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        string pages = Path.Combine(dir!.FullName, "src", "Desk.Web", "Pages");
        var keys = Directory.EnumerateFiles(pages, "*.cshtml", SearchOption.AllDirectories)
            .SelectMany(f => Key().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value)).Distinct().ToList();
        Assert.True(keys.Count > 100, $"only {keys.Count} keys found under {pages}");
        var enums = new[] { typeof(ApplicationKind), typeof(ApplicationStatus), typeof(WriteBackState), typeof(StepMode), typeof(StepStatus),
            typeof(DecisionAction), typeof(NoticeKind), typeof(LifecycleStage), typeof(CustomerType), typeof(PartyKind), typeof(CollectionActionKind), typeof(OutboxStatus), typeof(OutboxChannel) }
            .SelectMany(Enum.GetNames);
        var missing = keys.Concat(enums).Concat(Roles.All).Where(k => !DeskText.Zh.ContainsKey(k)).ToList();
        Assert.True(missing.Count == 0, "no Chinese text for: " + string.Join(" | ", missing));
    }

    [Fact]
    public void Service_messages_keep_the_field_name_and_translate_the_problem()
    {
        var saved = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("zh-CN");
            Assert.Equal("legal_name: 必填", DeskText.Message("legal_name: is required"));
            Assert.Equal("something new: unknown", DeskText.Message("something new: unknown")); // unknown text stays English
            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("en");
            Assert.Equal("legal_name: is required", DeskText.Message("legal_name: is required"));
        }
        finally { CultureInfo.CurrentUICulture = saved; }
    }

    [GeneratedRegex("""T\["((?:[^"\\]|\\.)*)"[\],]""")]
    private static partial Regex Key();
}
