using System.Diagnostics;
using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages.Segments;

/// <summary>Saved segments with their counts and totals over the customers the user may see; a form to try and save a filter.</summary>
[Authorize(Policy = nameof(Permission.CustomersRead))]
public sealed class IndexModel(DeskDb db, SegmentService segments) : PageModel
{
    public sealed record Row(Segment Segment, List<SegmentTotals>? Totals, string? Error);

    public List<Row> Rows { get; private set; } = [];
    [BindProperty(SupportsGet = true)] public string? Filter { get; set; }
    [BindProperty] public string? Name { get; set; }
    public List<SegmentTotals>? Preview { get; private set; }
    public string? Error { get; private set; }
    public long ElapsedMs { get; private set; }

    public async Task OnGetAsync()
    {
        var watch = Stopwatch.StartNew();
        foreach (var s in await db.Segments.AsNoTracking().OrderBy(s => s.Name).ToListAsync())
        {
            try { Rows.Add(new Row(s, await SegmentService.TotalsAsync(segments.Query(User, s.Filter)), null)); }
            // A saved filter may use fields this user may not filter on (grade, score): say so instead of counting.
            catch (SegmentFilterException e) { Rows.Add(new Row(s, null, e.Message)); }
        }
        if (!string.IsNullOrWhiteSpace(Filter))
        {
            try { Preview = await SegmentService.TotalsAsync(segments.Query(User, Filter)); }
            catch (SegmentFilterException e) { Error = "filter: " + e.Message; }
        }
        ElapsedMs = watch.ElapsedMilliseconds;
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var (segment, error) = await segments.SaveAsync(User, null, Name, Filter);
        if (segment is not null) return Redirect($"/segments/{segment.Id}");
        db.ChangeTracker.Clear();
        await OnGetAsync();
        Error = error;
        return Page();
    }
}
