using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Credit.V1;
using Desk.Domain;
using Desk.Web.Api;
using Engine.Client;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Tests;

/// <summary>The desk against a real engine: import opens accounts, approvals write back once, crashes lose nothing.</summary>
public class CreditFlowTests
{
    // All tests share one engine, as desks do in production: each desk prefixes its request ids with its own id.
    private static async Task<(DeskHost Desk, string Engine)> StartAsync(string storage, params string[] extra)
    {
        string engine = await SharedEngine.AddressAsync();
        var desk = await DeskHost.StartAsync(engine, null, [.. await Storage.ArgumentsAsync(storage), .. extra]);
        await desk.AddUserAsync("sam", "sales");
        await desk.AddUserAsync("fay", "finance");
        await desk.AddUserAsync("dora", "finance", "finance-director");
        return (desk, engine);
    }

    private static async Task<HttpResponseMessage> UploadAsync(DeskClient client, string handler, string fileName, byte[] content)
    {
        string page = await client.Http.GetStringAsync("/customers/import");
        string token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        using var form = new MultipartFormDataContent { { new StringContent(WebUtility.HtmlDecode(token)), "__RequestVerificationToken" }, { new ByteArrayContent(content), "file", fileName } };
        return await client.Http.PostAsync($"/customers/import?handler={handler}", form);
    }

    private static async Task<string> ImportAsync(DeskClient client, string fileName, byte[] content)
    {
        string preview = await (await UploadAsync(client, "Preview", fileName, content)).Content.ReadAsStringAsync();
        string token = System.Text.RegularExpressions.Regex.Match(preview, "name=\"token\" value=\"([0-9a-f]+)\"").Groups[1].Value;
        var result = await client.PostFormAsync("/customers/import?handler=Import", new() { ["token"] = token }, "/customers/import");
        return await result.Content.ReadAsStringAsync();
    }

    [Theory]
    [InlineData(Storage.Sqlite)]
    [InlineData(Storage.Postgres)]
    public async Task Import_previews_bad_rows_then_opens_engine_accounts_and_a_reimport_changes_nothing(string storage)
    {
        var (desk, engineAddress) = await StartAsync(storage);
        await using var _ = desk;
        using var sam = await DeskClient.SignedInAsync(desk.Address, "sam");
        string a = TestData.NewUscc(), b = TestData.NewUscc();
        string csv = "uscc,legal_name,initial_limit,terms_days,region\n" +
                     $"{a},Alpha Trading,30000,30,华东\n" +
                     $"{b},Beta Foods,\"45,000.50\",45,华北\n" +
                     $"{a[..17]}{(a[17] == '0' ? '1' : '0')},Bad Check,1000,30,华南\n" +
                     $"{TestData.NewUscc()},,abc,30,华南\n";
        string preview = await (await UploadAsync(sam, "Preview", "customers.csv", System.Text.Encoding.UTF8.GetBytes(csv))).Content.ReadAsStringAsync();
        Assert.Contains("2 valid rows, 3 problems", preview);
        Assert.Contains("<td>4</td><td>uscc</td>", preview);
        Assert.Contains("<td>5</td><td>legal_name</td><td>is required</td>", preview);
        Assert.Contains("<td>5</td><td>initial_limit</td>", preview);

        string first = await ImportAsync(sam, "customers.csv", System.Text.Encoding.UTF8.GetBytes(csv));
        Assert.Contains("Created 2, updated 0, unchanged 0, engine accounts opened 2", first);
        using var engine = new CreditEngineClient(engineAddress);
        var beta = await engine.GetAccountAsync(new GetAccountRequest { AccountId = RequestIds.MainAccountId(b) });
        Assert.Equal(4_500_050, beta.Account.CreditLimit);
        int auditBefore = desk.With(db => db.Audit.Count());

        // The same rows again, now as .xlsx: nothing changes, nothing is opened.
        var rows = Csv.Parse(csv);
        byte[] xlsx = Services.Spreadsheets.WriteXlsx(rows);
        string second = await ImportAsync(sam, "customers.xlsx", xlsx);
        Assert.Contains("Created 0, updated 0, unchanged 2, engine accounts opened 0", second);
        Assert.Equal(auditBefore, desk.With(db => db.Audit.Count()));
        Assert.Equal(2, desk.With(db => db.EngineAccounts.Count()));
        Assert.Equal("sam", desk.With(db => db.Customers.Single(c => c.Uscc == a).OwnerUserName));
    }

    [Theory]
    [InlineData(Storage.Sqlite)]
    [InlineData(Storage.Postgres)]
    public async Task Application_over_50000_is_approved_in_two_steps_and_changes_the_engine_limit_once(string storage)
    {
        var (desk, engineAddress) = await StartAsync(storage);
        await using var _ = desk;
        using var sam = await DeskClient.SignedInAsync(desk.Address, "sam");
        using var fay = await DeskClient.SignedInAsync(desk.Address, "fay");
        using var dora = await DeskClient.SignedInAsync(desk.Address, "dora");
        string uscc = TestData.NewUscc();
        await ImportAsync(sam, "one.csv", System.Text.Encoding.UTF8.GetBytes($"uscc,legal_name,initial_limit\n{uscc},Gamma Steel,20000\n"));
        long customerId = desk.With(db => db.Customers.Single(c => c.Uscc == uscc).Id);

        var submitted = await sam.Http.PostAsJsonAsync("/api/v1/applications", new { customerId, kind = "LimitChange", amount = 80_000m, reason = "new contract" });
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        var app = (await submitted.Content.ReadFromJsonAsync<ApplicationDto>())!;
        Assert.Equal(["finance-review:Active", "finance-director:Waiting"], app.Steps);

        // Maker–checker and step membership are enforced.
        var own = await sam.Http.PostAsJsonAsync($"/api/v1/applications/{app.Id}/decisions", new { action = "Approve", opinion = "mine" });
        Assert.Contains("maker–checker", await own.Content.ReadAsStringAsync());
        var early = await dora.Http.PostAsJsonAsync($"/api/v1/applications/{app.Id}/decisions", new { action = "Approve", opinion = "ok" });
        Assert.Equal(HttpStatusCode.OK, early.StatusCode); // dora is finance: she may take the review step…
        var twice = await dora.Http.PostAsJsonAsync($"/api/v1/applications/{app.Id}/decisions", new { action = "Approve", opinion = "again" });
        string twiceBody = await twice.Content.ReadAsStringAsync();
        Assert.True(twiceBody.Contains("already approved a step"), twiceBody); // …but not the director step too
        var notDirector = await fay.Http.PostAsJsonAsync($"/api/v1/applications/{app.Id}/decisions", new { action = "Approve", opinion = "ok" });
        Assert.Contains("is for title:finance-director", await notDirector.Content.ReadAsStringAsync());
        Assert.Equal(ApplicationStatus.InApproval, desk.With(db => db.Applications.Single(x => x.Id == app.Id).Status));
        // Field-level rule: the trail records what each approver saw (score and grade included); sales may not see it.
        string samSees = await sam.Http.GetStringAsync($"/applications/{app.Id}");
        Assert.DoesNotContain("Score", samSees);
        Assert.DoesNotContain("Grade", samSees);
        Assert.Contains("Score", await fay.Http.GetStringAsync($"/applications/{app.Id}"));

        // A second director approves the last step.
        await desk.AddUserAsync("dirk", "finance", "finance-director");
        using var dirk = await DeskClient.SignedInAsync(desk.Address, "dirk");
        var final = await dirk.Http.PostAsJsonAsync($"/api/v1/applications/{app.Id}/decisions", new { action = "Approve", opinion = "agreed" });
        Assert.Equal(HttpStatusCode.OK, final.StatusCode);

        // The background write-back loop sends it (with the engine follower running beside it).
        ApplicationDto done = app;
        await Wait.UntilAsync(async () => (done = await sam.GetJsonAsync<ApplicationDto>($"/api/v1/applications/{app.Id}")).WriteBack == "Done", "the background write-back");
        Assert.Equal($"{DeskIdOf(desk)}-app-{app.Id}-limit", done.EngineRequestId);
        Assert.Equal("Ok", done.EngineStatus);
        var credit = await sam.GetJsonAsync<CreditStatusDto>($"/api/v1/customers/{customerId}/credit");
        Assert.Equal(80_000m, Assert.Single(credit.Accounts).Limit);
        string page = await sam.Http.GetStringAsync($"/customers/{customerId}");
        Assert.Contains("80,000.00", page); // ¥ is HTML-encoded

        using var engine = new CreditEngineClient(engineAddress);
        var events = await engine.ListEventsAsync(new ListEventsRequest { AccountId = RequestIds.MainAccountId(uscc), MinSequence = done.EngineSequence!.Value });
        Assert.Single(events.Events, e => e.Type == EventType.LimitChanged);
        // The follower projects the same limit change (exactly once: the write-back already moved the account's sequence).
        await Wait.UntilAsync(() => Task.FromResult(desk.With(db => db.Settings.Single(x => x.Key == Services.EngineFollower.PositionKey).Value) is string p && long.Parse(p) >= done.EngineSequence!.Value),
            "the follower to pass the write-back's sequence");
        Assert.Equal(8_000_000, desk.With(db => db.Customers.Single(c => c.Id == customerId).LimitMinor));
    }

    private static string DeskIdOf(DeskHost desk) => desk.With(db => db.Settings.Single(s => s.Key == Services.DeskIdentity.Key).Value);

    [Fact]
    public async Task Two_desks_sharing_an_engine_send_distinct_request_ids_for_their_same_numbered_applications()
    {
        var (first, engineAddress) = await StartAsync(Storage.Sqlite, "--Desk:FollowEngine=false");
        await using var _ = first;
        var (second, _) = await StartAsync(Storage.Sqlite, "--Desk:FollowEngine=false");
        await using var __ = second;
        Assert.NotEqual(DeskIdOf(first), DeskIdOf(second));
        using var engine = new CreditEngineClient(engineAddress);
        var accounts = new List<string>();
        foreach (var desk in new[] { first, second })
        {
            await desk.AddUserAsync("sid", "sales", "sales-director");
            using var sam = await DeskClient.SignedInAsync(desk.Address, "sam");
            using var fay = await DeskClient.SignedInAsync(desk.Address, "fay");
            using var sid = await DeskClient.SignedInAsync(desk.Address, "sid");
            string uscc = TestData.NewUscc();
            await ImportAsync(sam, "one.csv", System.Text.Encoding.UTF8.GetBytes($"uscc,legal_name,initial_limit\n{uscc},Shared Engine Co,10000\n"));
            long customerId = desk.With(db => db.Customers.Single(c => c.Uscc == uscc).Id);
            var app = (await (await sam.Http.PostAsJsonAsync("/api/v1/applications", new { customerId, kind = "LimitChange", amount = 20_000m, reason = "r" })).Content.ReadFromJsonAsync<ApplicationDto>())!;
            Assert.Equal(1, app.Id); // each desk's first application: the same desk record id in both databases
            Assert.Equal(HttpStatusCode.OK, (await fay.Http.PostAsJsonAsync($"/api/v1/applications/{app.Id}/decisions", new { action = "Approve", opinion = "ok" })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await sid.Http.PostAsJsonAsync($"/api/v1/applications/{app.Id}/decisions", new { action = "Approve", opinion = "ok" })).StatusCode);
            await Wait.UntilAsync(() => Task.FromResult(desk.With(db => db.Applications.Single(a => a.Id == app.Id).WriteBack) == WriteBackState.Done), "the write-back");
            var written = desk.With(db => db.Applications.Single(a => a.Id == app.Id));
            Assert.False(written.EngineReplayed); // with unprefixed ids the second desk got the first desk's reply (replayed) or REQUEST_ID_REUSED
            Assert.Equal("Ok", written.EngineStatus);
            accounts.Add(RequestIds.MainAccountId(uscc));
        }
        foreach (string account in accounts)
            Assert.Equal(2_000_000, (await engine.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = 0 })).Account.CreditLimit);
    }

    [Theory]
    [InlineData("before-engine-call", false, Storage.Sqlite)]
    [InlineData("after-engine-call", true, Storage.Sqlite)]
    [InlineData("after-engine-call", true, Storage.Postgres)]
    public async Task Desk_killed_between_approval_and_write_back_neither_loses_nor_doubles_it(string failPoint, bool engineAppliedBeforeCrash, string storage)
    {
        string engineAddress = await SharedEngine.AddressAsync();
        string data = Temp.Directory("desk-crash");
        string[] db = await Storage.ArgumentsAsync(storage); // the same database in all three lives
        string uscc = TestData.NewUscc();
        long appId;
        // First life: set up and approve; the write-back kills the desk (SIGKILL) at the fail point.
        {
            await using var desk = await DeskHost.StartAsync(engineAddress, data, [.. db, "--Desk:FollowEngine=false", "--Desk:JobIntervalMs=600000"]);
            await desk.AddUserAsync("sam", "sales");
            await desk.AddUserAsync("fay", "finance");
            await desk.AddUserAsync("sid", "sales", "sales-director");
            using var sam = await DeskClient.SignedInAsync(desk.Address, "sam");
            await ImportAsync(sam, "one.csv", System.Text.Encoding.UTF8.GetBytes($"uscc,legal_name,initial_limit\n{uscc},Delta Paper,10000\n"));
            long customerId = desk.With(db => db.Customers.Single(c => c.Uscc == uscc).Id);
            var submitted = await sam.Http.PostAsJsonAsync("/api/v1/applications", new { customerId, kind = "LimitChange", amount = 40_000m, reason = "season" });
            appId = (await submitted.Content.ReadFromJsonAsync<ApplicationDto>())!.Id;
            using var fay = await DeskClient.SignedInAsync(desk.Address, "fay");
            Assert.Equal(HttpStatusCode.OK, (await fay.Http.PostAsJsonAsync($"/api/v1/applications/{appId}/decisions", new { action = "Approve", opinion = "ok" })).StatusCode);
        }
        // The approval is committed; the in-process desk is stopped. The desk process that does the write-back is a child.
        {
            using var child = await ChildDesk.StartAsync(engineAddress, data, [.. db, "--Desk:FollowEngine=false", $"--Desk:FailPoint={failPoint}"]);
            using var sid = await DeskClient.SignedInAsync(child.Address, "sid");
            // The decision commits before the write-back starts; at "before-engine-call" the process may die before the
            // HTTP reply is flushed, so a dropped connection is an acceptable answer here.
            try { await sid.Http.PostAsJsonAsync($"/api/v1/applications/{appId}/decisions", new { action = "Approve", opinion = "fine" }); }
            catch (HttpRequestException) { }
            await child.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.True(child.Process.HasExited); // it killed itself (SIGKILL) at the fail point
        }
        using var engine = new CreditEngineClient(engineAddress);
        string account = RequestIds.MainAccountId(uscc);
        if (engineAppliedBeforeCrash)
            await Wait.UntilAsync(async () => (await engine.GetAccountAsync(new GetAccountRequest { AccountId = account })).Account.CreditLimit == 4_000_000, "the engine's read model to show the applied limit");
        else
            Assert.Equal(1_000_000, (await engine.GetAccountAsync(new GetAccountRequest { AccountId = account })).Account.CreditLimit);

        // Second life: the pending write-back is still there and goes out again with the same request id.
        await using (var desk = await DeskHost.StartAsync(engineAddress, data, [.. db, "--Desk:FollowEngine=false"]))
        {
            await Wait.UntilAsync(() => Task.FromResult(desk.With(db => db.Applications.Single(a => a.Id == appId).WriteBack) == WriteBackState.Done), "the retried write-back");
            var app = desk.With(db => db.Applications.Single(a => a.Id == appId));
            Assert.Equal(engineAppliedBeforeCrash, app.EngineReplayed);
            Assert.Equal(1, app.WriteBackAttempts); // the attempt in flight at the crash was never recorded
        }
        var events = await engine.ListEventsAsync(new ListEventsRequest { AccountId = account });
        var changes = events.Events.Where(e => e.Type == EventType.LimitChanged).ToList();
        Assert.Matches($"^[0-9a-f]{{12}}-app-{appId}-limit$", Assert.Single(changes).RequestId);
        Assert.Equal(4_000_000, (await engine.GetAccountAsync(new GetAccountRequest { AccountId = account })).Account.CreditLimit);
        Temp.Delete(data);
    }
}
