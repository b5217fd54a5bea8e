using PortfolioMonth = Desk.Domain.PortfolioMonth;
using System.Globalization;
using Credit.V1;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

/// <summary>One row of a cockpit table: a label, its values (minor units or counts) and the drill-down key of the customers behind it.</summary>
public sealed record CockpitRow(string Label, string DrillKey, params long[] Values);

/// <summary>A cockpit table: its name (the export's file name), column headings and rows.</summary>
public sealed record CockpitTable(string Name, string[] Columns, IReadOnlyList<CockpitRow> Rows);

/// <summary>The cockpit's figures as of one engine day, with the engine's own portfolio totals beside them.</summary>
public sealed record CockpitFigures(
    int Today, long Position, long ReceivablesMinor, long PastDueMinor, long CollectedThisMonthMinor, long DuesPaidThisMonthMinor, long DueByMonthEndMinor,
    IReadOnlyList<CockpitTable> Tables, GetPortfolioResponse? Engine, string? EngineError)
{
    /// <summary>Collection rate this month: dues paid this month ÷ (dues paid this month + dues still open that fall due by the month's end), in basis points.</summary>
    public long CollectionRateBasisPoints => DuesPaidThisMonthMinor + DueByMonthEndMinor == 0 ? 0 : DuesPaidThisMonthMinor * 10_000 / (DuesPaidThisMonthMinor + DueByMonthEndMinor);

    public CockpitTable Table(string name) => Tables.First(t => t.Name == name);
}

/// <summary>
/// The cockpit (docs/DESK.md "Dashboards"), read from what the follower keeps as events arrive: the customers' projected
/// receivables, past due, oldest due day and exposure; the open dues (aging by due day, one indexed range sum per bucket);
/// the payments and the monthly figures (<see cref="PortfolioMonth"/>); and the engine's GetPortfolio. Nothing here
/// scans the engine's events; every figure is a grouped query over the projection tables. Amounts are CNY minor units
/// (the demo and the tests are single-currency; a multi-currency portfolio would need a figure per currency).
/// </summary>
public sealed class CockpitService(DeskDb db, EngineGateway engine, TimeProvider clock, ILogger<CockpitService> log)
{
    public const int MonthsShown = 12;
    public const int DrillPageSize = 100;
    public static readonly string[] TableNames = ["summary", "aging", "top-overdue", "grades", "salespeople", "regions-collected", "new-past-due", "industries", "regions"];

    /// <summary>
    /// Every figure (or, for an export, only the table <paramref name="only"/>): seven grouped queries — customers by
    /// (grade, industry, region); past due by salesperson; this month's payments and the dues open by month end by
    /// (salesperson, region); dues by aging bucket; the ten largest past-due amounts; the months — folded in memory.
    /// </summary>
    public async Task<CockpitFigures> FiguresAsync(bool withGrades, CancellationToken ct = default, string? only = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var steps = new List<string>();
        void Step(string name) { steps.Add($"{name} {watch.Elapsed.TotalMilliseconds:0}"); watch.Restart(); }
        var state = await ProjectionState.ReadAsync(db, ct);
        int today = state.EngineToday(clock);
        int month = DueRules.MonthOf(today);
        var date = DueRules.DateOf(today);
        int monthEndDay = DueRules.DayOf(new DateOnly(date.Year, date.Month, 1).AddMonths(1)) - 1;
        bool Want(string table) => only is null || only == table;

        var groups = await db.Customers.AsNoTracking().GroupBy(c => new { c.Grade, c.Industry, c.Region })
            .Select(g => new Group(g.Key.Grade ?? "", g.Key.Industry ?? "", g.Key.Region ?? "", g.Count(), g.Sum(c => c.ReceivablesMinor), g.Sum(c => c.PastDueMinor),
                g.Sum(c => c.LimitMinor), g.Sum(c => c.PostedMinor + c.HeldMinor))).ToListAsync(ct);
        Step("customers");
        var months = await db.PortfolioMonths.AsNoTracking().Where(m => m.Month >= DueRules.AddMonths(month, -(MonthsShown - 1)) && m.Month <= month).ToDictionaryAsync(m => m.Month, ct);
        var thisMonth = months.GetValueOrDefault(month) ?? new PortfolioMonth { Month = month };
        Step("months");
        bool performance = Want("salespeople") || Want("regions-collected") || Want("summary");
        var paid = performance
            ? await db.Payments.AsNoTracking().Where(p => p.Month == month).Join(db.Customers, p => p.CustomerId, c => c.Id, (p, c) => new { p.AmountMinor, p.DuesPaidMinor, c.OwnerUserName, c.Region })
                .GroupBy(x => new { x.OwnerUserName, x.Region }).Select(g => new Flow(g.Key.OwnerUserName ?? "", g.Key.Region ?? "", g.Sum(x => x.AmountMinor), g.Sum(x => x.DuesPaidMinor))).ToListAsync(ct)
            : [];
        Step("payments");
        var open = performance
            ? await db.Dues.AsNoTracking().Where(d => d.DueDay <= monthEndDay).Join(db.Customers, d => d.CustomerId, c => c.Id, (d, c) => new { Open = d.AmountMinor - d.PaidMinor, c.OwnerUserName, c.Region })
                .GroupBy(x => new { x.OwnerUserName, x.Region }).Select(g => new Flow(g.Key.OwnerUserName ?? "", g.Key.Region ?? "", g.Sum(x => x.Open), 0)).ToListAsync(ct)
            : [];
        Step("dues-by-month-end");
        var pastDueByOwner = Want("salespeople")
            ? await db.Customers.AsNoTracking().Where(c => c.PastDueMinor > 0).GroupBy(c => c.OwnerUserName).Select(g => new { Key = g.Key ?? "", PastDue = g.Sum(c => c.PastDueMinor) }).ToDictionaryAsync(x => x.Key, x => x.PastDue, ct)
            : [];
        Step("past-due-by-owner");
        long receivables = groups.Sum(g => g.Receivables), pastDue = groups.Sum(g => g.PastDue), dueByMonthEnd = open.Sum(o => o.Amount);

        var tables = new List<CockpitTable>
        {
            new("summary", ["figure", "value"],
            [
                new("receivables", "receivables", receivables),
                new("past due", "past-due", pastDue),
                new("collected this month", "collected", thisMonth.CollectedMinor),
                new("dues paid this month", "collected", thisMonth.DuesPaidMinor),
                new("open, due by month end", "due-by-month-end", dueByMonthEnd),
            ]),
        };
        if (Want("aging")) tables.Add(await AgingAsync(today, ct));
        Step("aging");
        if (Want("top-overdue")) tables.Add(await TopOverdueAsync(today, ct));
        Step("top");
        if (withGrades && Want("grades"))
            tables.Add(new CockpitTable("grades", ["grade", "customers", "receivables"], groups.GroupBy(g => g.Grade).OrderBy(g => g.Key == "" ? "~" : g.Key, StringComparer.Ordinal)
                .Select(g => new CockpitRow(g.Key == "" ? "—" : g.Key, "grade:" + g.Key, g.Sum(x => x.Count), g.Sum(x => x.Receivables))).ToList()));
        if (Want("salespeople"))
            tables.Add(Performance("salespeople", "salesperson", "owner:", paid.GroupBy(p => p.Owner), open.GroupBy(o => o.Owner), pastDueByOwner));
        if (Want("regions-collected"))
            tables.Add(Performance("regions-collected", "region", "region:", paid.GroupBy(p => p.Region), open.GroupBy(o => o.Region),
                groups.GroupBy(g => g.Region).ToDictionary(g => g.Key, g => g.Sum(x => x.PastDue)).Where(x => x.Value > 0).ToDictionary()));
        if (Want("new-past-due"))
            tables.Add(new CockpitTable("new-past-due", ["month", "new past due"],
                Enumerable.Range(0, MonthsShown).Select(i => DueRules.AddMonths(month, i - (MonthsShown - 1)))
                    .Select(m => new CockpitRow($"{m / 100}-{m % 100:00}", "new-past-due:" + m, months.GetValueOrDefault(m)?.NewPastDueMinor ?? 0)).ToList()));
        if (Want("industries")) tables.Add(Exposure("industries", "industry", "industry:", groups.GroupBy(g => g.Industry)));
        if (Want("regions")) tables.Add(Exposure("regions", "region", "region:", groups.GroupBy(g => g.Region)));

        GetPortfolioResponse? portfolio = null;
        string? error = null;
        if (only is null)
        {
            try { portfolio = await engine.Client.Queries.GetPortfolioAsync(new GetPortfolioRequest(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: ct); }
            catch (Grpc.Core.RpcException e) { error = $"engine unreachable: {e.Status.StatusCode}"; }
        }
        Step("engine");
        log.LogDebug("cockpit figures (ms): {Steps}", string.Join(", ", steps));
        return new CockpitFigures(today, state.Position, receivables, pastDue, thisMonth.CollectedMinor, thisMonth.DuesPaidMinor, dueByMonthEnd, tables, portfolio, error);
    }

    private sealed record Group(string Grade, string Industry, string Region, long Count, long Receivables, long PastDue, long Limit, long Exposure);

    private sealed record Flow(string Owner, string Region, long Amount, long DuesPaid);

    /// <summary>Dues by the age of each due (docs/LIFECYCLE.md buckets): one grouped query on the due day index.</summary>
    private async Task<CockpitTable> AgingAsync(int today, CancellationToken ct)
    {
        var sums = await db.Dues.AsNoTracking()
            .GroupBy(d => d.DueDay >= today ? 0 : d.DueDay >= today - 30 ? 1 : d.DueDay >= today - 60 ? 2 : d.DueDay >= today - 90 ? 3 : d.DueDay >= today - 180 ? 4 : 5)
            .Select(g => new { Bucket = g.Key, Open = g.Sum(d => d.AmountMinor - d.PaidMinor), Dues = g.Count() })
            .ToDictionaryAsync(x => x.Bucket, ct);
        return new CockpitTable("aging", ["bucket", "open", "dues"],
            CollectionRules.Buckets.Select((b, i) => new CockpitRow(b, "aging:" + b, sums.GetValueOrDefault(i)?.Open ?? 0, sums.GetValueOrDefault(i)?.Dues ?? 0)).ToList());
    }

    private async Task<CockpitTable> TopOverdueAsync(int today, CancellationToken ct)
    {
        var top = await db.Customers.AsNoTracking().Where(c => c.PastDueMinor > 0).OrderByDescending(c => c.PastDueMinor).ThenBy(c => c.Id).Take(10)
            .Select(c => new { c.Id, c.LegalName, c.PastDueMinor, c.OldestDueDay }).ToListAsync(ct);
        return new CockpitTable("top-overdue", ["customer", "past due", "dpd"],
            top.Select(c => new CockpitRow(c.LegalName, "customer:" + c.Id, c.PastDueMinor, DueRules.Dpd(c.OldestDueDay, today))).ToList());
    }

    /// <summary>Collected this month, dues paid, dues open by month end and past due now per group, ranked by collected; rate = paid ÷ (paid + open).</summary>
    private static CockpitTable Performance(string name, string heading, string prefix, IEnumerable<IGrouping<string, Flow>> paid, IEnumerable<IGrouping<string, Flow>> open, Dictionary<string, long> pastDue)
    {
        var paidBy = paid.ToDictionary(g => g.Key, g => (Collected: g.Sum(x => x.Amount), DuesPaid: g.Sum(x => x.DuesPaid)));
        var openBy = open.ToDictionary(g => g.Key, g => g.Sum(x => x.Amount));
        var rows = paidBy.Keys.Concat(openBy.Keys).Concat(pastDue.Keys).Distinct().Select(k =>
        {
            var (collected, duesPaid) = paidBy.GetValueOrDefault(k);
            long due = openBy.GetValueOrDefault(k);
            long rate = duesPaid + due == 0 ? 0 : duesPaid * 10_000 / (duesPaid + due);
            return new CockpitRow(k == "" ? "—" : k, prefix + k, collected, duesPaid, due, pastDue.GetValueOrDefault(k), rate);
        }).OrderByDescending(r => r.Values[0]).ThenBy(r => r.Label, StringComparer.Ordinal).ToList();
        return new CockpitTable(name, [heading, "collected this month", "dues paid this month", "open, due by month end", "past due", "collection rate (bp)"], rows);
    }

    private static CockpitTable Exposure(string name, string heading, string prefix, IEnumerable<IGrouping<string, Group>> groups) =>
        new(name, [heading, "customers", "limit", "exposure", "utilisation (bp)"], groups
            .Select(g => (Key: g.Key, Count: g.Sum(x => x.Count), Limit: g.Sum(x => x.Limit), Exposure: g.Sum(x => x.Exposure)))
            .OrderByDescending(r => r.Exposure)
            .Select(r => new CockpitRow(r.Key == "" ? "—" : r.Key, prefix + r.Key, r.Count, r.Limit, r.Exposure, r.Limit == 0 ? 0 : r.Exposure * 10_000 / r.Limit)).ToList());

    /// <summary>The customers behind a figure (a drill key from a table row), largest past due first, one page.</summary>
    public async Task<(IReadOnlyList<Customer> Customers, int Total, string? Error)> DrillAsync(string key, int page, CancellationToken ct = default)
    {
        var state = await ProjectionState.ReadAsync(db, ct);
        int today = state.EngineToday(clock);
        int month = DueRules.MonthOf(today);
        IQueryable<Customer> q = db.Customers.AsNoTracking();
        string kind = key.Split(':')[0], value = key.Contains(':') ? key[(key.IndexOf(':') + 1)..] : "";
        switch (kind)
        {
            case "receivables": q = q.Where(c => c.ReceivablesMinor > 0); break;
            case "past-due": q = q.Where(c => c.PastDueMinor > 0); break;
            case "collected": q = q.Where(c => db.Payments.Any(p => p.CustomerId == c.Id && p.Month == month)); break;
            case "due-by-month-end":
                var end = DueRules.DateOf(today);
                int endDay = DueRules.DayOf(new DateOnly(end.Year, end.Month, 1).AddMonths(1)) - 1;
                q = q.Where(c => db.Dues.Any(d => d.CustomerId == c.Id && d.DueDay <= endDay));
                break;
            case "aging" when CollectionRules.Buckets.Contains(value):
                var (from, to) = DueRules.BucketDays(value, today);
                var inBucket = db.Dues.Where(d => d.DueDay >= from && d.DueDay <= to).Select(d => d.CustomerId);
                q = q.Where(c => inBucket.Contains(c.Id));
                break;
            case "grade": q = value == "" ? q.Where(c => c.Grade == null) : q.Where(c => c.Grade == value); break;
            case "owner": q = value == "" ? q.Where(c => c.OwnerUserName == null) : q.Where(c => c.OwnerUserName == value); break;
            case "region": q = value == "" ? q.Where(c => c.Region == null) : q.Where(c => c.Region == value); break;
            case "industry": q = value == "" ? q.Where(c => c.Industry == null) : q.Where(c => c.Industry == value); break;
            case "new-past-due" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int m) && m % 100 is >= 1 and <= 12:
                // Dues that fell past due in the month (the day after the due date is in it) and are still open.
                int first = DueRules.DayOf(new DateOnly(m / 100, m % 100, 1)) - 1, last = DueRules.DayOf(new DateOnly(m / 100, m % 100, 1).AddMonths(1)) - 2;
                q = q.Where(c => db.Dues.Any(d => d.CustomerId == c.Id && d.DueDay >= first && d.DueDay <= last && d.DueDay < today));
                break;
            case "customer" when long.TryParse(value, out long id): q = q.Where(c => c.Id == id); break;
            default: return ([], 0, $"figure: '{key}' is not a cockpit figure");
        }
        int total = await q.CountAsync(ct);
        var rows = await q.OrderByDescending(c => c.PastDueMinor).ThenByDescending(c => c.ReceivablesMinor).ThenBy(c => c.Id).Skip(Math.Max(0, page) * DrillPageSize).Take(DrillPageSize).ToListAsync(ct);
        return (rows, total, null);
    }

    /// <summary>A table as text rows (a header, then one row per line; money in major units, basis points as percent).</summary>
    public static List<string[]> Rows(CockpitTable table)
    {
        var rows = new List<string[]> { table.Columns };
        foreach (var r in table.Rows)
            rows.Add([r.Label, .. r.Values.Select((v, i) => Cell(table, i + 1, v))]);
        return rows;
    }

    /// <summary>How a value of column <paramref name="column"/> reads: counts, DPD and rates as numbers, money in major units.</summary>
    public static string Cell(CockpitTable table, int column, long value)
    {
        string heading = table.Columns[column];
        if (heading.EndsWith("(bp)", StringComparison.Ordinal)) return (value / 100m).ToString("0.00", CultureInfo.InvariantCulture) + "%";
        if (heading is "customers" or "dpd" or "dues") return value.ToString(CultureInfo.InvariantCulture);
        return (value / (decimal)Money.MinorPerMajor).ToString("0.00", CultureInfo.InvariantCulture);
    }
}
