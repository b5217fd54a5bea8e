using System.Diagnostics;
using System.Globalization;
using System.Net;
using Credit.V1;
using Desk.Domain;
using Desk.Web.Services;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Desk.Web.Tests;

/// <summary>
/// The cockpit and the collections worklist on 100,000 customers, and the engine projection's throughput. The projection
/// tables are written straight into the desk's SQLite file as the follower would leave them (customers, one account
/// each, ~1.1 dues per customer, one in eight past due over all six buckets, a payment this month for every third,
/// cases for the accounts in a stage, 12 months of figures); then each page is requested several times and its server
/// time read from the Server-Timing header, as <see cref="PortfolioScaleTests"/> does. Last, synthetic engine events
/// (purchases on net terms and repayments on the seeded accounts) go through the follower's own apply, batch by
/// batch, timed. It asserts what the pages show, not how fast they are; bench/RESULTS.md records the figures.
/// </summary>
public class CockpitScaleTests(ITestOutputHelper output)
{
    public const int CustomerCount = 100_000;
    private const int Repeats = 5;
    private const int ProjectedEvents = 50_000;

    [Fact]
    public async Task Cockpit_worklist_and_projection_on_100000_customers_report_their_server_time()
    {
        string data = Temp.Directory("desk-cockpit-scale");
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync(), data, "--Desk:FollowEngine=false", "--Desk:JobIntervalMs=600000",
            "--Logging:LogLevel:Desk.Web.Services.CockpitService=Debug");
        await desk.AddUserAsync("mgr", "manager");
        int today = DueRules.DayOf(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var seeding = Stopwatch.StartNew();
        var seeded = Seed(Path.Combine(data, "desk.db"), today);
        // DESK_SCALE_DB=path keeps a copy of the seeded database, to look at query plans with sqlite3.
        if (Environment.GetEnvironmentVariable("DESK_SCALE_DB") is { Length: > 0 } keep) { SqliteConnection.ClearAllPools(); File.Copy(Path.Combine(data, "desk.db"), keep, overwrite: true); }
        output.WriteLine($"seeded {CustomerCount:N0} customers, {seeded.Dues:N0} dues, {seeded.Payments:N0} payments, {seeded.Cases:N0} cases in {seeding.ElapsedMilliseconds} ms");

        using var mgr = await DeskClient.SignedInAsync(desk.Address, "mgr");
        var pages = new (string Name, string Path, string Expect)[]
        {
            ("cockpit (all figures, GetPortfolio)", "/cockpit", Money.Format(seeded.ReceivablesMinor, "CNY")),
            ("worklist, first page", "/collections", "FROZEN_DELINQUENT"),
            ("worklist, stage WATCH", "/collections?stage=WATCH", "WATCH"),
            ("worklist, bucket 91-180", "/collections?bucket=91-180", "91-180"),
            ("drill-down: aging 31-60", "/cockpit/customers?figure=aging%3A31-60", "customers"),
            ("drill-down: salesperson", "/cockpit/customers?figure=owner%3Asales7", "customers"),
            ("export: performance by salesperson, xlsx", "/cockpit?handler=Export&table=salespeople&format=xlsx", ""),
            ("case page", "/collections/case/" + RequestIds.MainAccountId(Demo.DemoUscc(8)), "¥"),
        };
        output.WriteLine($"| page ({CustomerCount:N0} customers) | median ms | max ms |");
        output.WriteLine("|---|---|---|");
        foreach (var (name, path, expect) in pages)
        {
            var times = new List<double>();
            for (int i = 0; i <= Repeats; i++)
            {
                var response = await mgr.Http.GetAsync(path);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Contains(expect, await response.Content.ReadAsStringAsync());
                string timing = response.Headers.GetValues("Server-Timing").Single();
                if (i > 0) times.Add(double.Parse(timing[(timing.IndexOf("dur=", StringComparison.Ordinal) + 4)..], CultureInfo.InvariantCulture));
            }
            times.Sort();
            output.WriteLine($"| {name} | {times[times.Count / 2]:0.0} | {times[^1]:0.0} |");
        }

        // What the cockpit shows adds up to the seed.
        using (var scope = desk.Services.CreateScope())
        {
            var figures = await scope.ServiceProvider.GetRequiredService<CockpitService>().FiguresAsync(withGrades: true);
            Assert.Equal(seeded.ReceivablesMinor, figures.ReceivablesMinor);
            Assert.Equal(seeded.ReceivablesMinor, figures.Table("aging").Rows.Sum(r => r.Values[0]));
            Assert.Equal(CustomerCount, figures.Table("grades").Rows.Sum(r => r.Values[0]));
        }

        // The projection: synthetic events through the follower's apply (one transaction per batch of 500, as live).
        var follower = new EngineFollower(desk.Services.GetRequiredService<IServiceScopeFactory>(), desk.Services.GetRequiredService<EngineGateway>(),
            TimeProvider.System, NullLogger<EngineFollower>.Instance);
        var posted = new long[CustomerCount];
        for (int i = 0; i < CustomerCount; i++) posted[i] = seeded.Posted[i];
        long nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var applying = Stopwatch.StartNew();
        var batch = new List<LedgerEvent>(500);
        for (int k = 0; k < ProjectedEvents; k++)
        {
            int i = (int)((k * 7919L) % CustomerCount);
            bool capture = k % 3 != 2;
            long amount = 100_00;
            posted[i] += capture ? amount : -amount;
            batch.Add(new LedgerEvent
            {
                Sequence = 1_000_000 + k, TimestampUnixMs = nowMs, AccountId = RequestIds.MainAccountId(Demo.DemoUscc(i)), Amount = amount,
                Type = capture ? EventType.Captured : EventType.Repaid, Status = Status.Ok, Posted = posted[i],
            });
            if (batch.Count == 500) { await follower.ApplyAsync(batch, CancellationToken.None); batch.Clear(); }
        }
        if (batch.Count > 0) await follower.ApplyAsync(batch, CancellationToken.None);
        double seconds = applying.Elapsed.TotalSeconds;
        output.WriteLine($"projection: {ProjectedEvents:N0} events (purchases on net terms, repayments) over {CustomerCount:N0} accounts in {seconds:0.0} s = {ProjectedEvents / seconds:N0} events/s");
        Assert.Equal(1_000_000 + ProjectedEvents - 1, (await desk.With(db => ProjectionState.ReadAsync(db))).Position);
    }

    private sealed record Seeded(int Dues, int Payments, int Cases, long ReceivablesMinor, long[] Posted);

    /// <summary>The projection as the follower would leave it, in one transaction with prepared statements.</summary>
    private static Seeded Seed(string databaseFile, int today)
    {
        string[] regions = ["华东", "华北", "华南", "华中", "西南", "东北"];
        string[] industries = ["制造业", "批发零售", "物流", "建筑", "信息技术", "餐饮"];
        string[] grades = ["A", "B", "B", "C", "C", "D"];
        using var connection = new SqliteConnection($"Data Source={databaseFile}");
        connection.Open();
        using var tx = connection.BeginTransaction();
        SqliteCommand Prepare(string sql, params string[] names)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (string n in names) command.Parameters.Add(new SqliteParameter { ParameterName = n });
            command.Prepare();
            return command;
        }
        void Run(SqliteCommand command, params object?[] values) { for (int p = 0; p < values.Length; p++) command.Parameters[p].Value = values[p] ?? DBNull.Value; command.ExecuteNonQuery(); }
        using var customer = Prepare(
            "INSERT INTO Customers (Uscc, LegalName, RegisteredCapitalMinor, Stage, Type, Currency, CreatedAt, UpdatedAt, Region, Industry, OwnerUserName, Score, Grade, " +
            "LimitMinor, PostedMinor, HeldMinor, Volume12mMinor, LatePayments12m, DpdDays, UtilisationPct, ReceivablesMinor, PastDueMinor, OldestDueDay) VALUES " +
            "($uscc, $name, 0, 'Active', 'Enterprise', 'CNY', 0, 0, $region, $industry, $owner, 60, $grade, $limit, $posted, 0, 0, 0, $dpd, $util, $receivables, $pastDue, $oldest)",
            "$uscc", "$name", "$region", "$industry", "$owner", "$grade", "$limit", "$posted", "$dpd", "$util", "$receivables", "$pastDue", "$oldest");
        using var account = Prepare(
            "INSERT INTO EngineAccounts (CustomerId, AccountId, Currency, OpenRequestId, OpenedSequence, InitialLimitMinor, TermsDays, OpenedAt, LimitMinor, PostedMinor, HeldMinor, " +
            "VolumeMinor, ProjectedSequence, BillingMode, DelinquencyStage, FrozenManually, DepositMinor, ReceivablesMinor, PastDueMinor, OldestDueDay, LastEventAtUnixMs) VALUES " +
            "($customer, $account, 'CNY', 'seed', 1, $limit, 30, 0, $limit, $posted, 0, $posted, 1, 'TERMS', $stage, 0, 0, $receivables, $pastDue, $oldest, 0)",
            "$customer", "$account", "$limit", "$posted", "$stage", "$receivables", "$pastDue", "$oldest");
        using var due = Prepare("INSERT INTO AccountDues (AccountId, CustomerId, DueDay, AmountMinor, PaidMinor, PastDueCounted, Reminded) VALUES ($account, $customer, $day, $amount, 0, $counted, 0)",
            "$account", "$customer", "$day", "$amount", "$counted");
        using var payment = Prepare("INSERT INTO AccountPayments (Sequence, AccountId, CustomerId, AtUnixMs, Month, Kind, AmountMinor, DuesPaidMinor) VALUES ($seq, $account, $customer, $at, $month, 'REPAID', $amount, $amount)",
            "$seq", "$account", "$customer", "$at", "$month", "$amount");
        using var openCase = Prepare("INSERT INTO CollectionCases (CustomerId, AccountId, AssignedTo, Status, Raised, OpenedAt, UpdatedAt) VALUES ($customer, $account, $assigned, 'Open', 0, 0, 0)",
            "$customer", "$account", "$assigned");
        int dues = 0, payments = 0, cases = 0, month = DueRules.MonthOf(today);
        long receivables = 0, nowMs = today * DueRules.DayMs;
        var posted = new long[CustomerCount];
        for (int i = 0; i < CustomerCount; i++)
        {
            long limit = (1 + i % 100) * 10_000_00L;
            long balance = limit * (10 + i % 80) / 100;
            posted[i] = balance;
            bool late = i % 8 == 0;
            int dpd = late ? 1 + i / 8 % 240 : 0;
            long current = balance / 2, pastDue = late ? balance - current : 0;
            string stage = dpd >= 180 ? DelinquencyStages.ChargedOff : dpd >= 30 ? DelinquencyStages.FrozenDelinquent : dpd >= 15 ? DelinquencyStages.Watch : DelinquencyStages.Current;
            int? oldest = late ? today - dpd : today + i % 30;
            string accountId = RequestIds.MainAccountId(Demo.DemoUscc(i));
            long id = i + 1; // ids start at 1 in a fresh database
            Run(customer, Demo.DemoUscc(i), $"客户{i}有限公司", regions[i % regions.Length], industries[i / 6 % industries.Length], $"sales{i % 50}", grades[i % grades.Length],
                limit, balance, dpd, (int)(balance * 100 / limit), current + pastDue, pastDue, oldest);
            Run(account, id, accountId, limit, balance, stage, current + pastDue, pastDue, oldest);
            Run(due, accountId, id, today + i % 30, current, 0);
            dues++;
            if (late) { Run(due, accountId, id, today - dpd, pastDue, 1); dues++; }
            receivables += current + pastDue;
            if (i % 3 == 0) { Run(payment, i + 1, accountId, id, nowMs, month, limit / 20); payments++; }
            if (stage != DelinquencyStages.Current) { Run(openCase, id, accountId, i % 16 == 0 ? "collector1" : null); cases++; }
        }
        using (var months = connection.CreateCommand())
        {
            for (int m = 0; m < 12; m++)
                months.CommandText += $"INSERT INTO PortfolioMonths (Month, CollectedMinor, DuesPaidMinor, NewPastDueMinor) VALUES ({DueRules.AddMonths(month, -m)}, {(m + 1) * 1_000_000_00L}, {(m + 1) * 900_000_00L}, {(12 - m) * 300_000_00L});\n";
            months.ExecuteNonQuery();
        }
        tx.Commit();
        return new Seeded(dues, payments, cases, receivables, posted);
    }
}
