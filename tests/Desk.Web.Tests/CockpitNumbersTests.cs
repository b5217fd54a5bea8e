using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Desk.Web.Tests;

/// <summary>
/// Numbers that add up: a known portfolio built through a real engine (purchases on net-10 terms, partial repayments,
/// the engine clock moved across a month end) and every cockpit figure checked against a deliberately simple model of
/// the same portfolio kept by the test itself (dues per purchase, payments oldest due first), not against the desk's code.
/// </summary>
public class CockpitNumbersTests
{
    private sealed class Book(string name, string owner, string region, string industry, long limit)
    {
        public string Name = name, Owner = owner, Region = region, Industry = industry, Account = "";
        public long Limit = limit, Posted;
        public long Id;
        public readonly List<(int Day, long Amount, long Paid, long OpenWhenPastDue)> Dues = [];
        public readonly List<(int Day, long Amount, long DuesPaid)> Payments = [];
    }

    private const int Terms = 10;

    [Theory]
    [InlineData(Storage.Sqlite)]
    [InlineData(Storage.Postgres)]
    public async Task Every_cockpit_figure_equals_the_same_figure_computed_independently_from_the_postings(string storage)
    {
        await using var world = await LifecycleWorld.StartAsync(await Storage.ArgumentsAsync(storage));
        var books = new[]
        {
            new Book("甲 Alpha Trading", "s1", "华东", "制造业", 100_000_00), new Book("乙 Beta Logistics", "s2", "华北", "物流", 50_000_00),
            new Book("丙 Gamma Tech", "s1", "华北", "制造业", 20_000_00), new Book("丁 Delta Retail", "s3", "华南", "批发零售", 30_000_00),
        };
        foreach (var b in books)
        {
            var (c, account) = await world.CustomerAsync(b.Name, b.Limit, Terms, b.Owner, b.Region, b.Industry);
            (b.Id, b.Account) = (c.Id, account);
        }
        var (a, beta, gamma, delta) = (books[0], books[1], books[2], books[3]);

        async Task Purchase(Book b, long amount) { await world.PurchaseAsync(b.Account, amount); b.Posted += amount; b.Dues.Add((world.EngineDay + Terms, amount, 0, -1)); }
        async Task Repay(Book b, long amount)
        {
            await world.RepayAsync(b.Account, amount);
            b.Posted -= amount;
            long left = amount, paid = 0;
            for (int i = 0; i < b.Dues.Count && left > 0; i++)
            {
                var d = b.Dues[i];
                long pay = Math.Min(left, d.Amount - d.Paid);
                b.Dues[i] = d with { Paid = d.Paid + pay };
                (left, paid) = (left - pay, paid + pay);
            }
            b.Payments.Add((world.EngineDay, amount, paid));
        }
        // The open amount of each due on the day after its due date (when it became past due), for "new past due per month".
        void Mark(int today) { foreach (var b in books) for (int i = 0; i < b.Dues.Count; i++) if (b.Dues[i].OpenWhenPastDue < 0 && b.Dues[i].Day < today) b.Dues[i] = b.Dues[i] with { OpenWhenPastDue = b.Dues[i].Amount - b.Dues[i].Paid }; }
        async Task Advance(int days) { for (int i = 0; i < days; i++) { await world.AdvanceDaysAsync(1); Mark(world.EngineDay); } }

        await Purchase(a, 10_000_00);
        await Purchase(beta, 6_000_00);
        await Purchase(gamma, 3_000_00);
        await Purchase(delta, 8_000_00);
        await Advance(5);
        await Purchase(beta, 4_000_00);
        await Repay(delta, 8_000_00); // on time: never past due
        await Advance(15);
        await Repay(a, 4_000_00);      // partial, 10 days late
        await Repay(gamma, 3_000_00);  // cures before WATCH
        await Advance(20);             // across a month end: WATCH at 15 days past due, frozen at 30
        await Repay(beta, 2_000_00);
        await Purchase(delta, 5_000_00);
        await world.SyncAsync();

        int today = world.EngineDay;
        int month = DueRules.MonthOf(today);
        var monthStart = DueRules.DateOf(today);
        int monthEndDay = DueRules.DayOf(new DateOnly(monthStart.Year, monthStart.Month, 1).AddMonths(1)) - 1;
        long Open((int Day, long Amount, long Paid, long OpenWhenPastDue) d) => d.Amount - d.Paid;
        long ReceivablesOf(Book b) => b.Dues.Sum(Open);
        long PastDueOf(Book b) => b.Dues.Where(d => d.Day < today).Sum(Open);
        int DpdOf(Book b) => b.Dues.Where(d => Open(d) > 0).Select(d => d.Day).DefaultIfEmpty(int.MaxValue).Min() is int oldest && oldest < today ? today - oldest : 0;
        bool InMonth(int day) => DueRules.MonthOf(day) == month;

        using var scope = world.Desk.Services.CreateScope();
        var figures = await scope.ServiceProvider.GetRequiredService<CockpitService>().FiguresAsync(withGrades: true);
        Assert.Equal(today, figures.Today);

        // Tiles.
        long receivables = books.Sum(ReceivablesOf), duesPaid = books.Sum(b => b.Payments.Where(p => InMonth(p.Day)).Sum(p => p.DuesPaid));
        long dueByMonthEnd = books.Sum(b => b.Dues.Where(d => d.Day <= monthEndDay).Sum(Open));
        Assert.Equal(receivables, figures.ReceivablesMinor);
        Assert.Equal(books.Sum(PastDueOf), figures.PastDueMinor);
        Assert.Equal(books.Sum(b => b.Payments.Where(p => InMonth(p.Day)).Sum(p => p.Amount)), figures.CollectedThisMonthMinor);
        Assert.Equal(duesPaid, figures.DuesPaidThisMonthMinor);
        Assert.Equal(dueByMonthEnd, figures.DueByMonthEndMinor);
        Assert.Equal(duesPaid * 10_000 / (duesPaid + dueByMonthEnd), figures.CollectionRateBasisPoints);
        Assert.Equal(receivables, figures.Engine!.Receivables); // the engine's own GetPortfolio agrees

        // Aging: each due by its own age.
        var aging = figures.Table("aging").Rows.ToDictionary(r => r.Label, r => r.Values[0]);
        foreach (string bucket in CollectionRules.Buckets)
            Assert.Equal(books.Sum(b => b.Dues.Where(d => Open(d) > 0 && DueRules.Bucket(d.Day, today) == bucket).Sum(Open)), aging[bucket]);

        // Top overdue: past due and DPD, largest first.
        var expectedTop = books.Where(b => PastDueOf(b) > 0).OrderByDescending(PastDueOf).Select(b => (b.Name, PastDueOf(b), (long)DpdOf(b))).ToList();
        Assert.Equal(expectedTop, figures.Table("top-overdue").Rows.Select(r => (r.Label, r.Values[0], r.Values[1])).ToList());
        Assert.True(expectedTop.Count >= 2, "the scenario has at least two late payers");

        // Grades: count and receivables per grade the desk gave each customer.
        var grades = await world.DbAsync(db => db.Customers.AsNoTracking().Where(c => books.Select(b => b.Id).Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Grade ?? ""));
        var expectedGrades = books.GroupBy(b => grades[b.Id]).ToDictionary(g => g.Key == "" ? "—" : g.Key, g => (Count: (long)g.Count(), Receivables: g.Sum(ReceivablesOf)));
        Assert.Equal(expectedGrades.OrderBy(x => x.Key), figures.Table("grades").Rows.Select(r => new KeyValuePair<string, (long, long)>(r.Label, (r.Values[0], r.Values[1]))).OrderBy(x => x.Key));

        // Collection performance by salesperson and region.
        foreach (var (table, key) in new (string, Func<Book, string>)[] { ("salespeople", b => b.Owner), ("regions-collected", b => b.Region) })
        {
            var rows = figures.Table(table).Rows.ToDictionary(r => r.Label, r => r.Values);
            foreach (var g in books.GroupBy(key))
            {
                long collected = g.Sum(b => b.Payments.Where(p => InMonth(p.Day)).Sum(p => p.Amount)), paid = g.Sum(b => b.Payments.Where(p => InMonth(p.Day)).Sum(p => p.DuesPaid));
                long open = g.Sum(b => b.Dues.Where(d => d.Day <= monthEndDay).Sum(Open));
                if (collected == 0 && open == 0 && g.Sum(PastDueOf) == 0) { Assert.False(rows.ContainsKey(g.Key)); continue; }
                Assert.Equal([collected, paid, open, g.Sum(PastDueOf), paid + open == 0 ? 0 : paid * 10_000 / (paid + open)], rows[g.Key]);
            }
            var ranked = figures.Table(table).Rows.Select(r => r.Values[0]).ToList();
            Assert.Equal(ranked.OrderByDescending(v => v), ranked);
        }

        // New past-due amount per month: each due's open amount on the day after its due date, in that day's month.
        var newPastDue = figures.Table("new-past-due").Rows;
        Assert.Equal(CockpitService.MonthsShown, newPastDue.Count);
        foreach (var row in newPastDue)
        {
            int m = int.Parse(row.DrillKey["new-past-due:".Length..]);
            Assert.Equal(books.Sum(b => b.Dues.Where(d => d.Day + 1 < today + 1 && d.OpenWhenPastDue > 0 && DueRules.MonthOf(d.Day + 1) == m).Sum(d => d.OpenWhenPastDue)), row.Values[0]);
        }
        Assert.True(newPastDue.Count(r => r.Values[0] > 0) >= 1 && newPastDue.Sum(r => r.Values[0]) > 0);

        // Utilisation and exposure by industry and region.
        foreach (var (table, key) in new (string, Func<Book, string>)[] { ("industries", b => b.Industry), ("regions", b => b.Region) })
        {
            var rows = figures.Table(table).Rows.ToDictionary(r => r.Label, r => r.Values);
            foreach (var g in books.GroupBy(key))
            {
                long limit = g.Sum(b => b.Limit), exposure = g.Sum(b => b.Posted);
                Assert.Equal([g.Count(), limit, exposure, exposure * 10_000 / limit], rows[g.Key]);
            }
        }

        // Drill-down: the customers behind a bucket and a salesperson are exactly the test's.
        var drill = scope.ServiceProvider.GetRequiredService<CockpitService>();
        var (late, total, error) = await drill.DrillAsync("aging:31-60", 0);
        Assert.Null(error);
        Assert.Equal(books.Where(b => b.Dues.Any(d => Open(d) > 0 && DueRules.Bucket(d.Day, today) == "31-60")).Select(b => b.Id).Order(), late.Select(c => c.Id).Order());
        Assert.Equal(late.Count, total);
        var (s1, _, _) = await drill.DrillAsync("owner:s1", 0);
        Assert.Equal(books.Where(b => b.Owner == "s1").Select(b => b.Id).Order(), s1.Select(c => c.Id).Order());
        Assert.Equal("figure: 'nonsense' is not a cockpit figure", (await drill.DrillAsync("nonsense", 0)).Error);

        // The engine's stages reached the cases: Alpha and Beta frozen for delinquency, Gamma cured before WATCH (no case).
        foreach (var b in new[] { a, beta })
        {
            var c = await world.CaseAsync(b.Account);
            Assert.NotNull(c);
            Assert.Equal(CaseStatus.Open, c!.Status);
            Assert.Equal([CollectionActionKind.StageChange, CollectionActionKind.SeniorTask, CollectionActionKind.StageChange, CollectionActionKind.Freeze],
                c.Actions.OrderBy(x => x.Id).Select(x => x.Kind).ToList());
        }
        Assert.Null(await world.CaseAsync(gamma.Account));
        Assert.Equal(2, await world.DbAsync(db => db.CollectionTasks.CountAsync(t => t.DoneAt == null)));

        // Alpha pays the rest: the engine cures the account, the case closes itself and its task is done.
        await Repay(a, ReceivablesOf(a));
        await world.SyncAsync();
        var cured = await world.CaseAsync(a.Account);
        Assert.Equal(CaseStatus.Closed, cured!.Status);
        Assert.Equal(CollectionActionKind.Cure, cured.Actions.OrderBy(x => x.Id).Last().Kind);
        Assert.Contains("lifted its delinquency freeze", cured.Actions.OrderBy(x => x.Id).Last().Text);
        Assert.Equal(1, await world.DbAsync(db => db.CollectionTasks.CountAsync(t => t.DoneAt == null)));
    }
}
