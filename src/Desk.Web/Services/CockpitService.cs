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
public sealed class CockpitService(DeskDb db, EngineGateway engine, TimeProvider clock)
{
    public const int MonthsShown = 12;
    public const int DrillPageSize = 100;
    public static readonly string[] TableNames = ["summary", "aging", "top-overdue", "grades", "salespeople", "regions-collected", "new-past-due", "industries", "regions"];

    public async Task<CockpitFigures> FiguresAsync(bool withGrades, CancellationToken ct = default)
    {
        var state = await ProjectionState.ReadAsync(db, ct);
        int today = state.EngineToday(clock);
        int month = DueRules.MonthOf(today);
        var monthEnd = DueRules.DateOf(today);
        int monthEndDay = DueRules.DayOf(new DateOnly(monthEnd.Year, monthEnd.Month, 1).AddMonths(1)) - 1;
        var customers = db.Customers.AsNoTracking();

        var totals = await customers.GroupBy(_ => 1).Select(g => new { Receivables = g.Sum(c => c.ReceivablesMinor), PastDue = g.Sum(c => c.PastDueMinor) }).FirstOrDefaultAsync(ct);
        var months = await db.PortfolioMonths.AsNoTracking().Where(m => m.Month >= DueRules.AddMonths(month, -(MonthsShown - 1)) && m.Month <= month).ToDictionaryAsync(m => m.Month, ct);
        var thisMonth = months.GetValueOrDefault(month) ?? new PortfolioMonth { Month = month };
        long dueByMonthEnd = await db.Dues.Where(d => d.DueDay <= monthEndDay).SumAsync(d => (long?)(d.AmountMinor - d.PaidMinor), ct) ?? 0;

        var tables = new List<CockpitTable>
        {
            new("summary", ["figure", "value"],
            [
                new("receivables", "receivables", totals?.Receivables ?? 0),
                new("past due", "past-due", totals?.PastDue ?? 0),
                new("collected this month", "collected", thisMonth.CollectedMinor),
                new("dues paid this month", "collected", thisMonth.DuesPaidMinor),
                new("open, due by month end", "due-by-month-end", dueByMonthEnd),
            ]),
            await AgingAsync(today, ct),
            await TopOverdueAsync(today, ct),
        };
        if (withGrades) tables.Add(await GradesAsync(ct));
        tables.Add(await CollectedByAsync("salespeople", month, monthEndDay, byOwner: true, ct));
        tables.Add(await CollectedByAsync("regions-collected", month, monthEndDay, byOwner: false, ct));
        tables.Add(new CockpitTable("new-past-due", ["month", "new past due"],
            Enumerable.Range(0, MonthsShown).Select(i => DueRules.AddMonths(month, i - (MonthsShown - 1)))
                .Select(m => new CockpitRow($"{m / 100}-{m % 100:00}", "new-past-due:" + m, months.GetValueOrDefault(m)?.NewPastDueMinor ?? 0)).ToList()));
        tables.Add(await ExposureByAsync("industries", c => c.Industry, ct));
        tables.Add(await ExposureByAsync("regions", c => c.Region, ct));

        GetPortfolioResponse? portfolio = null;
        string? error = null;
        try { portfolio = await engine.Client.Queries.GetPortfolioAsync(new GetPortfolioRequest(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: ct); }
        catch (Grpc.Core.RpcException e) { error = $"engine unreachable: {e.Status.StatusCode}"; }
        return new CockpitFigures(today, state.Position, totals?.Receivables ?? 0, totals?.PastDue ?? 0, thisMonth.CollectedMinor, thisMonth.DuesPaidMinor, dueByMonthEnd, tables, portfolio, error);
    }

    /// <summary>Open dues by the age of each due (docs/LIFECYCLE.md buckets): one grouped, indexed query on the due day.</summary>
    private async Task<CockpitTable> AgingAsync(int today, CancellationToken ct)
    {
        var sums = await db.Dues.AsNoTracking()
            .GroupBy(d => d.DueDay >= today ? 0 : d.DueDay >= today - 30 ? 1 : d.DueDay >= today - 60 ? 2 : d.DueDay >= today - 90 ? 3 : d.DueDay >= today - 180 ? 4 : 5)
            .Select(g => new { Bucket = g.Key, Open = g.Sum(d => d.AmountMinor - d.PaidMinor), Customers = g.Select(d => d.CustomerId).Distinct().Count() })
            .ToDictionaryAsync(x => x.Bucket, ct);
        return new CockpitTable("aging", ["bucket", "open", "customers"],
            CollectionRules.Buckets.Select((b, i) => new CockpitRow(b, "aging:" + b, sums.GetValueOrDefault(i)?.Open ?? 0, sums.GetValueOrDefault(i)?.Customers ?? 0)).ToList());
    }

    private async Task<CockpitTable> TopOverdueAsync(int today, CancellationToken ct)
    {
        var top = await db.Customers.AsNoTracking().Where(c => c.PastDueMinor > 0).OrderByDescending(c => c.PastDueMinor).ThenBy(c => c.Id).Take(10)
            .Select(c => new { c.Id, c.LegalName, c.PastDueMinor, c.OldestDueDay }).ToListAsync(ct);
        return new CockpitTable("top-overdue", ["customer", "past due", "dpd"],
            top.Select(c => new CockpitRow(c.LegalName, "customer:" + c.Id, c.PastDueMinor, DueRules.Dpd(c.OldestDueDay, today))).ToList());
    }

    private async Task<CockpitTable> GradesAsync(CancellationToken ct)
    {
        var rows = await db.Customers.AsNoTracking().GroupBy(c => c.Grade ?? "")
            .Select(g => new { Grade = g.Key, Count = g.Count(), Receivables = g.Sum(c => c.ReceivablesMinor) }).ToListAsync(ct);
        return new CockpitTable("grades", ["grade", "customers", "receivables"],
            rows.OrderBy(r => r.Grade == "" ? "~" : r.Grade, StringComparer.Ordinal).Select(r => new CockpitRow(r.Grade == "" ? "—" : r.Grade, "grade:" + r.Grade, r.Count, r.Receivables)).ToList());
    }

    /// <summary>Collected this month, dues paid, dues open by month end and past due now, per salesperson or region, ranked by collected.</summary>
    private async Task<CockpitTable> CollectedByAsync(string name, int month, int monthEndDay, bool byOwner, CancellationToken ct)
    {
        var paid = await db.Payments.AsNoTracking().Where(p => p.Month == month).Join(db.Customers, p => p.CustomerId, c => c.Id, (p, c) => new { p.AmountMinor, p.DuesPaidMinor, Key = byOwner ? c.OwnerUserName : c.Region })
            .GroupBy(x => x.Key ?? "").Select(g => new { g.Key, Collected = g.Sum(x => x.AmountMinor), DuesPaid = g.Sum(x => x.DuesPaidMinor) }).ToDictionaryAsync(x => x.Key, ct);
        var open = await db.Dues.AsNoTracking().Where(d => d.DueDay <= monthEndDay).Join(db.Customers, d => d.CustomerId, c => c.Id, (d, c) => new { Open = d.AmountMinor - d.PaidMinor, Key = byOwner ? c.OwnerUserName : c.Region })
            .GroupBy(x => x.Key ?? "").Select(g => new { g.Key, Open = g.Sum(x => x.Open) }).ToDictionaryAsync(x => x.Key, x => x.Open, ct);
        var pastDue = await db.Customers.AsNoTracking().Where(c => c.PastDueMinor > 0).GroupBy(c => (byOwner ? c.OwnerUserName : c.Region) ?? "")
            .Select(g => new { g.Key, PastDue = g.Sum(c => c.PastDueMinor) }).ToDictionaryAsync(x => x.Key, x => x.PastDue, ct);
        var keys = paid.Keys.Concat(open.Keys).Concat(pastDue.Keys).Distinct();
        var rows = keys.Select(k =>
        {
            long collected = paid.GetValueOrDefault(k)?.Collected ?? 0, duesPaid = paid.GetValueOrDefault(k)?.DuesPaid ?? 0, due = open.GetValueOrDefault(k);
            long rate = duesPaid + due == 0 ? 0 : duesPaid * 10_000 / (duesPaid + due);
            return new CockpitRow(k == "" ? "—" : k, (byOwner ? "owner:" : "region:") + k, collected, duesPaid, due, pastDue.GetValueOrDefault(k), rate);
        }).OrderByDescending(r => r.Values[0]).ThenBy(r => r.Label, StringComparer.Ordinal).ToList();
        return new CockpitTable(name, [byOwner ? "salesperson" : "region", "collected this month", "dues paid this month", "open, due by month end", "past due", "collection rate (bp)"], rows);
    }

    private async Task<CockpitTable> ExposureByAsync(string name, System.Linq.Expressions.Expression<Func<Customer, string?>> key, CancellationToken ct)
    {
        var rows = await db.Customers.AsNoTracking().GroupBy(key)
            .Select(g => new { Key = g.Key ?? "", Count = g.Count(), Limit = g.Sum(c => c.LimitMinor), Exposure = g.Sum(c => c.PostedMinor + c.HeldMinor) }).ToListAsync(ct);
        string prefix = name == "industries" ? "industry:" : "region:";
        return new CockpitTable(name, [name == "industries" ? "industry" : "region", "customers", "limit", "exposure", "utilisation (bp)"],
            rows.OrderByDescending(r => r.Exposure).Select(r => new CockpitRow(r.Key == "" ? "—" : r.Key, prefix + r.Key, r.Count, r.Limit, r.Exposure, r.Limit == 0 ? 0 : r.Exposure * 10_000 / r.Limit)).ToList());
    }

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
                q = q.Where(c => db.Dues.Any(d => d.CustomerId == c.Id && d.DueDay >= from && d.DueDay <= to));
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
        if (heading is "customers" or "dpd") return value.ToString(CultureInfo.InvariantCulture);
        return (value / (decimal)Money.MinorPerMajor).ToString("0.00", CultureInfo.InvariantCulture);
    }
}
