using System.Globalization;
using System.Security.Claims;
using System.Text;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

/// <summary>Totals of a segment for one currency (amounts in minor units; pages show major units).</summary>
public sealed record SegmentTotals(string Currency, int Count, long LimitMinor, long PostedMinor, long HeldMinor);

/// <summary>
/// Segments: saved filters (<see cref="SegmentFilter"/>) evaluated in the database over the customers the user may see,
/// so a salesperson's segment counts only their own customers and may not filter on grades or scores.
/// </summary>
public sealed class SegmentService(DeskDb db, CustomerService customers, TimeProvider clock)
{
    public const int NameLengthMax = 100;
    /// <summary>Rows in one CSV export; beyond it the export says it was cut (the page names the limit).</summary>
    public const int ExportRowsMax = 200_000;

    /// <summary>The customers of a filter that this user may see; throws <see cref="SegmentFilterException"/> naming the problem.</summary>
    public IQueryable<Customer> Query(ClaimsPrincipal user, string filter) =>
        customers.Visible(user).AsNoTracking().Where(SegmentFilter.Parse(filter, user.Can(Permission.CreditReportsRead)));

    /// <summary>Count and sums per currency, one grouped query in the database.</summary>
    public static async Task<List<SegmentTotals>> TotalsAsync(IQueryable<Customer> q, CancellationToken ct = default) =>
        (await q.GroupBy(c => c.Currency)
            .Select(g => new { Currency = g.Key, Count = g.Count(), Limit = g.Sum(c => c.LimitMinor), Posted = g.Sum(c => c.PostedMinor), Held = g.Sum(c => c.HeldMinor) })
            .ToListAsync(ct))
        .Select(t => new SegmentTotals(t.Currency, t.Count, t.Limit, t.Posted, t.Held)).OrderByDescending(t => t.Count).ToList();

    public async Task<(Segment? Segment, string? Error)> SaveAsync(ClaimsPrincipal user, long? id, string? name, string? filter)
    {
        if (!user.Can(Permission.SegmentsWrite)) return (null, "forbidden: your roles may not save segments");
        name = name?.Trim() ?? "";
        filter = filter?.Trim() ?? "";
        if (name.Length == 0) return (null, "name: is required");
        if (name.Length > NameLengthMax) return (null, $"name: at most {NameLengthMax} characters");
        try { SegmentFilter.Parse(filter, user.Can(Permission.CreditReportsRead)); }
        catch (SegmentFilterException e) { return (null, "filter: " + e.Message); }
        if (await db.Segments.AnyAsync(s => s.Name == name && s.Id != (id ?? 0))) return (null, $"name: a segment named '{name}' exists");
        var now = clock.GetUtcNow();
        Segment? segment;
        if (id is long existing)
        {
            segment = await db.Segments.FirstOrDefaultAsync(s => s.Id == existing);
            if (segment is null) return (null, "segment: not found");
            var before = new { segment.Name, segment.Filter };
            segment.Name = name;
            segment.Filter = filter;
            if (Audit.Diff(before, new { segment.Name, segment.Filter }) is { } diff)
                Audit.Record(db, user.AuditName(), "Segment", segment.Id, "update", diff.Before, diff.After, now);
            await db.SaveChangesAsync();
            return (segment, null);
        }
        segment = new Segment { Name = name, Filter = filter, CreatedBy = user.Name(), CreatedAt = now };
        db.Segments.Add(segment);
        await db.SaveChangesAsync();
        Audit.Record(db, user.AuditName(), "Segment", segment.Id, "create", null, new { segment.Name, segment.Filter }, now);
        await db.SaveChangesAsync();
        return (segment, null);
    }

    public async Task<string?> DeleteAsync(ClaimsPrincipal user, long id)
    {
        if (!user.Can(Permission.SegmentsWrite)) return "forbidden: your roles may not delete segments";
        var segment = await db.Segments.FirstOrDefaultAsync(s => s.Id == id);
        if (segment is null) return "segment: not found";
        db.Segments.Remove(segment);
        Audit.Record(db, user.AuditName(), "Segment", id, "delete", new { segment.Name, segment.Filter }, null, clock.GetUtcNow());
        await db.SaveChangesAsync();
        return null;
    }

    /// <summary>
    /// CSV of the segment's customers (UTF-8 with a byte-order mark, so Excel on a Chinese Windows opens it right).
    /// Amounts in major units with the currency column beside them; grade and score only for who may see them.
    /// </summary>
    public static async Task<byte[]> ExportCsvAsync(IQueryable<Customer> q, bool creditReports, CancellationToken ct = default)
    {
        var sb = new StringBuilder();
        sb.Append("id,uscc,legal_name,region,industry,owner,stage,currency,limit,posted,held,utilisation_pct,dpd_days");
        if (creditReports) sb.Append(",score,grade,external_rating");
        sb.Append('\n');
        int rows = 0;
        await foreach (var c in q.OrderBy(c => c.Id).Take(ExportRowsMax).AsAsyncEnumerable().WithCancellation(ct))
        {
            sb.Append(c.Id).Append(',').Append(Cell(c.Uscc)).Append(',').Append(Cell(c.LegalName)).Append(',').Append(Cell(c.Region))
              .Append(',').Append(Cell(c.Industry)).Append(',').Append(Cell(c.OwnerUserName)).Append(',').Append(c.Stage).Append(',').Append(c.Currency)
              .Append(',').Append(Major(c.LimitMinor)).Append(',').Append(Major(c.PostedMinor)).Append(',').Append(Major(c.HeldMinor))
              .Append(',').Append(c.UtilisationPct).Append(',').Append(c.DpdDays);
            if (creditReports) sb.Append(',').Append(c.Score).Append(',').Append(Cell(c.Grade)).Append(',').Append(Cell(c.ExternalRating));
            sb.Append('\n');
            rows++;
        }
        if (rows == ExportRowsMax) sb.Append($"# cut at {ExportRowsMax} rows; narrow the filter\n");
        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(sb.ToString())];
    }

    /// <summary>A text cell; a leading = + - @ is neutralised so a customer name cannot run as a spreadsheet formula.</summary>
    private static string Cell(string? value) =>
        Csv.Escape(value is { Length: > 0 } && "=+-@".Contains(value[0]) ? "'" + value : value);

    private static string Major(long minor) => (minor / (decimal)Money.MinorPerMajor).ToString("0.00", CultureInfo.InvariantCulture);
}
