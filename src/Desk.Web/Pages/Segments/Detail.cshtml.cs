using System.Diagnostics;
using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages.Segments;

/// <summary>One segment: its totals, its customers (paged), CSV export, edit and delete, and its audit trail.</summary>
[Authorize(Policy = nameof(Permission.CustomersRead))]
public sealed class DetailModel(DeskDb db, SegmentService segments) : PageModel
{
    public const int PageSize = 50;
    public Segment? Segment { get; private set; }
    public List<SegmentTotals> Totals { get; private set; } = [];
    public List<Customer> Rows { get; private set; } = [];
    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;
    public string? Error { get; private set; }
    public long ElapsedMs { get; private set; }
    public List<AuditEntry> AuditEntries { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(long id)
    {
        var watch = Stopwatch.StartNew();
        Segment = await db.Segments.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id);
        if (Segment is null) return NotFound();
        PageNumber = Math.Max(1, PageNumber);
        try
        {
            var q = segments.Query(User, Segment.Filter);
            Totals = await SegmentService.TotalsAsync(q);
            Rows = await q.OrderBy(c => c.Id).Skip((PageNumber - 1) * PageSize).Take(PageSize).ToListAsync();
        }
        catch (SegmentFilterException e) { Error ??= "filter: " + e.Message; }
        string key = id.ToString();
        AuditEntries = await db.Audit.AsNoTracking().Where(a => a.EntityType == "Segment" && a.EntityId == key).OrderByDescending(a => a.Id).ToListAsync();
        ElapsedMs = watch.ElapsedMilliseconds;
        return Page();
    }

    public async Task<IActionResult> OnGetExportAsync(long id)
    {
        var segment = await db.Segments.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id);
        if (segment is null) return NotFound();
        try
        {
            byte[] csv = await SegmentService.ExportCsvAsync(segments.Query(User, segment.Filter), User.Can(Permission.CreditReportsRead), HttpContext.RequestAborted);
            return File(csv, "text/csv; charset=utf-8", $"segment-{segment.Id}.csv");
        }
        catch (SegmentFilterException e) { return BadRequest("filter: " + e.Message); }
    }

    public async Task<IActionResult> OnPostSaveAsync(long id, string? name, string? filter)
    {
        var (_, error) = await segments.SaveAsync(User, id, name, filter);
        if (error is null) return Redirect($"/segments/{id}");
        db.ChangeTracker.Clear();
        Error = error;
        return await OnGetAsync(id);
    }

    public async Task<IActionResult> OnPostDeleteAsync(long id)
    {
        string? error = await segments.DeleteAsync(User, id);
        if (error is null) return Redirect("/segments");
        db.ChangeTracker.Clear();
        Error = error;
        return await OnGetAsync(id);
    }
}
