using System.Text;
using System.Text.Json;
using Desk.Domain;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Desk.Web.Pages;

/// <summary>The credit cockpit (docs/DESK.md "Dashboards"): the figures of <see cref="CockpitService"/>, charts, drill-down links, exports.</summary>
[Authorize(Policy = nameof(Permission.CustomersReadAll))]
public sealed class CockpitModel(CockpitService cockpit, Microsoft.Extensions.Localization.IStringLocalizer<Localization.DeskText> text) : PageModel
{
    public CockpitFigures Figures { get; private set; } = null!;

    public async Task OnGetAsync() => Figures = await cockpit.FiguresAsync(User.Can(Permission.CreditReportsRead), HttpContext.RequestAborted);

    /// <summary>/cockpit?handler=Export&amp;table=aging&amp;format=csv|xlsx: one table, as shown (money in major units).</summary>
    public async Task<IActionResult> OnGetExportAsync(string? table, string? format)
    {
        if (table is null || !CockpitService.TableNames.Contains(table)) return BadRequest($"table: one of {string.Join(", ", CockpitService.TableNames)}");
        if (format is not ("csv" or "xlsx")) return BadRequest("format: csv or xlsx");
        var figures = await cockpit.FiguresAsync(User.Can(Permission.CreditReportsRead), HttpContext.RequestAborted, only: table);
        var found = figures.Tables.FirstOrDefault(t => t.Name == table);
        if (found is null) return Forbid();
        var rows = CockpitService.Rows(found).Select(r => r.Select(Safe).ToArray()).ToList();
        string file = $"cockpit-{table}-{DueRules.DateOf(figures.Today):yyyy-MM-dd}";
        if (format == "xlsx") return File(Spreadsheets.WriteXlsx(rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", file + ".xlsx");
        string csv = string.Join("\n", rows.Select(r => string.Join(",", r.Select(Csv.Escape)))) + "\n";
        return File([.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(csv)], "text/csv; charset=utf-8", file + ".csv");
    }

    /// <summary>A label a spreadsheet would run as a formula gets a leading apostrophe (numbers stay numbers).</summary>
    private static string Safe(string cell) => cell.Length > 0 && "=+-@".Contains(cell[0]) && !decimal.TryParse(cell.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture, out _) ? "'" + cell : cell;

    /// <summary>The chart data the page's script draws with Chart.js: per table, its labels, values and drill-down links.</summary>
    public string ChartJson()
    {
        var charts = Figures.Tables.ToDictionary(t => t.Name, t => new
        {
            labels = t.Rows.Select(r => r.Label),
            columns = t.Columns.Skip(1).Select(c => text[c].Value.Replace(" (bp)", " %")),
            values = t.Columns.Skip(1).Select((c, i) => t.Rows.Select(r => c.EndsWith("(bp)", StringComparison.Ordinal) ? r.Values[i] / 100.0 : c is "customers" or "dpd" or "dues" ? r.Values[i] : r.Values[i] / 100.0)),
            links = t.Rows.Select(r => Link(r.DrillKey)),
        });
        return JsonSerializer.Serialize(new { rate = Figures.CollectionRateBasisPoints / 100.0, total = text["all receivables"].Value, charts });
    }

    public static string Link(string drillKey) => drillKey.StartsWith("customer:", StringComparison.Ordinal)
        ? "/customers/" + drillKey["customer:".Length..]
        : "/cockpit/customers?figure=" + Uri.EscapeDataString(drillKey);
}
