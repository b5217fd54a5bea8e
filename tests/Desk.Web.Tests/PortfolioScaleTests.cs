using System.Globalization;
using System.Net;
using Desk.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Desk.Web.Tests;

/// <summary>
/// The desk's pages on a portfolio of 100,000 customers. The customers are written straight into the desk's SQLite
/// file (the engine is not involved: the list, search and segment pages read only the desk's projection). Reports the
/// server time of each page (the Server-Timing header: request received → first byte) as median and maximum of
/// several requests; it asserts what the pages show, not how fast they are (timings on a shared CI machine vary).
/// Run with <c>--logger "console;verbosity=detailed"</c> to see the figures; README records them.
/// </summary>
public class PortfolioScaleTests(ITestOutputHelper output)
{
    public const int CustomerCount = 100_000;
    private const int Repeats = 7;

    [Fact]
    public async Task List_search_and_segment_counts_on_100000_customers_report_their_server_time()
    {
        string data = Temp.Directory("desk-scale");
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync(), data, "--Desk:FollowEngine=false", "--Desk:JobIntervalMs=600000");
        await desk.AddUserAsync("fay", "finance");
        await desk.AddUserAsync("sales7", "sales");
        var seeding = System.Diagnostics.Stopwatch.StartNew();
        Seed(Path.Combine(data, "desk.db"));
        output.WriteLine($"seeded {CustomerCount:N0} customers in {seeding.ElapsedMilliseconds} ms");

        using var fay = await DeskClient.SignedInAsync(desk.Address, "fay");
        using var sales = await DeskClient.SignedInAsync(desk.Address, "sales7");
        long vipEast = await SaveSegmentAsync(fay, "VIP east", "region = 华东 AND tag:vip");
        long risky = await SaveSegmentAsync(fay, "Risky", "(grade in C,D OR dpd > 30) AND NOT stage = settled");
        await SaveSegmentAsync(fay, "High use", "utilisation >= 80 AND limit >= 100000");

        var pages = new (string Name, DeskClient Client, string Path, string Expect)[]
        {
            ("customer list, page 1", fay, "/customers", $"{CustomerCount} customers"),
            ("customer list, page 1,000", fay, "/customers?p=1000", $"{CustomerCount} customers"),
            ("customer list, sales (own only)", sales, "/customers", "customers"),
            ("search by name (contains)", fay, "/customers?q=" + WebUtility.UrlEncode("恒通"), "customers"),
            ("search by code prefix", fay, "/customers?q=9111000000001", "customers"),
            ("segments: 3 saved, counts and totals", fay, "/segments", "VIP east"),
            ("segment: tag and region", fay, $"/segments/{vipEast}", "customers"),
            ("segment: OR/NOT over grade, dpd, stage", fay, $"/segments/{risky}", "customers"),
        };
        output.WriteLine($"| page ({CustomerCount:N0} customers) | median ms | max ms |");
        output.WriteLine("|---|---|---|");
        foreach (var (name, client, path, expect) in pages)
        {
            var times = new List<double>();
            for (int i = 0; i <= Repeats; i++)
            {
                var response = await client.Http.GetAsync(path);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                string body = await response.Content.ReadAsStringAsync();
                Assert.Contains(expect, body);
                string timing = response.Headers.GetValues("Server-Timing").Single();
                if (i > 0) times.Add(double.Parse(timing[(timing.IndexOf("dur=", StringComparison.Ordinal) + 4)..], CultureInfo.InvariantCulture)); // the first request warms up
            }
            times.Sort();
            output.WriteLine($"| {name} | {times[times.Count / 2]:0.0} | {times[^1]:0.0} |");
        }
        // What the segments count is right: the seed puts every 10th customer in 华东 and tags every 7th "vip".
        int expectedVipEast = Enumerable.Range(0, CustomerCount).Count(i => i % 6 == 0 && i % 7 == 0);
        Assert.Contains($"<b class=\"count\">{expectedVipEast:N0}</b>", await fay.Http.GetStringAsync($"/segments/{vipEast}"));
    }

    private static async Task<long> SaveSegmentAsync(DeskClient client, string name, string filter)
    {
        var saved = await client.PostFormAsync("/segments", new() { ["name"] = name, ["filter"] = filter });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        return long.Parse(saved.Headers.Location!.OriginalString.Split('/')[^1], CultureInfo.InvariantCulture);
    }

    /// <summary>100,000 customers in one transaction with one prepared statement; every 7th tagged "vip".</summary>
    private static void Seed(string databaseFile)
    {
        string[] regions = ["华东", "华北", "华南", "华中", "西南", "东北"];
        string[] industries = ["制造业", "批发零售", "物流", "建筑", "信息技术", "餐饮"];
        string[] names = ["华盛", "鑫达", "恒通", "永泰", "金源", "宏图", "瑞丰", "天成", "聚力", "博远", "嘉禾", "中联"];
        string[] grades = ["A", "B", "B", "C", "C", "D"];
        using var connection = new SqliteConnection($"Data Source={databaseFile}");
        connection.Open();
        using var tx = connection.BeginTransaction();
        using (var tag = connection.CreateCommand()) { tag.CommandText = "INSERT INTO Tags (Name, Color) VALUES ('vip', '#aa3300')"; tag.ExecuteNonQuery(); }
        using var insert = connection.CreateCommand();
        insert.CommandText =
            "INSERT INTO Customers (Uscc, LegalName, RegisteredCapitalMinor, Stage, Type, Currency, CreatedAt, UpdatedAt, Region, Industry, OwnerUserName, Score, Grade, " +
            "LimitMinor, PostedMinor, HeldMinor, Volume12mMinor, LatePayments12m, DpdDays, UtilisationPct) VALUES " +
            "($uscc, $name, 0, $stage, 'Enterprise', 'CNY', 0, 0, $region, $industry, $owner, $score, $grade, $limit, $posted, 0, 0, 0, $dpd, $util)";
        string[] parameters = ["$uscc", "$name", "$stage", "$region", "$industry", "$owner", "$score", "$grade", "$limit", "$posted", "$dpd", "$util"];
        foreach (string p in parameters) insert.Parameters.Add(new SqliteParameter { ParameterName = p });
        insert.Prepare();
        using var tagged = connection.CreateCommand();
        tagged.CommandText = "INSERT INTO CustomerTags (CustomerId, TagId) VALUES ($id, (SELECT Id FROM Tags WHERE Name = 'vip'))";
        var taggedId = tagged.Parameters.Add(new SqliteParameter { ParameterName = "$id" });
        tagged.Prepare();
        for (int i = 0; i < CustomerCount; i++)
        {
            long limit = (1 + i % 100) * 10_000_00L;
            long posted = limit * (i % 97) / 100;
            object[] values =
            [
                Services.Demo.DemoUscc(i), $"{names[i % names.Length]}{i}贸易有限公司", (i % 20 == 0 ? LifecycleStage.Settled : LifecycleStage.Active).ToString(),
                regions[i % regions.Length], industries[i / 6 % industries.Length], $"sales{i % 50}", 40 + i % 60, grades[i % grades.Length],
                limit, posted, i % 13 == 0 ? i % 120 : 0, (int)(posted * 100 / limit),
            ];
            for (int p = 0; p < values.Length; p++) insert.Parameters[p].Value = values[p];
            insert.ExecuteNonQuery();
            if (i % 7 == 0) { taggedId.Value = i + 1; tagged.ExecuteNonQuery(); } // ids start at 1 in a fresh database
        }
        tx.Commit();
    }
}
