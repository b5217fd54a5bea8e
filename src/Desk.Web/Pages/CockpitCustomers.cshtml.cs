using Desk.Domain;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Desk.Web.Pages;

/// <summary>The customers behind one cockpit figure (drill-down), a page of 100, largest past due first.</summary>
[Authorize(Policy = nameof(Permission.CustomersReadAll))]
public sealed class CockpitCustomersModel(CockpitService cockpit) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Figure { get; set; }
    [BindProperty(SupportsGet = true, Name = "p")] public int PageIndex { get; set; }
    public IReadOnlyList<Customer> Rows { get; private set; } = [];
    public int Total { get; private set; }
    public string? Error { get; private set; }

    public async Task OnGetAsync() => (Rows, Total, Error) = await cockpit.DrillAsync(Figure ?? "", PageIndex, HttpContext.RequestAborted);
}
