using System.Diagnostics;
using Desk.Domain;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages.Customers;

[Authorize(Policy = nameof(Permission.CustomersRead))]
public sealed class IndexModel(CustomerService customers) : PageModel
{
    public const int PageSize = 50;
    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;
    public List<Customer> Rows { get; private set; } = [];
    public int Total { get; private set; }
    public long ElapsedMs { get; private set; }

    public async Task OnGetAsync()
    {
        var watch = Stopwatch.StartNew();
        PageNumber = Math.Max(1, PageNumber);
        var q = customers.Visible(User).AsNoTracking();
        if (!string.IsNullOrWhiteSpace(Q))
        {
            string term = Q.Trim();
            // Code prefix uses the unique index; name search is a contains scan (fine at 100k rows, see README).
            q = q.Where(c => c.Uscc.StartsWith(term.ToUpper()) || c.LegalName.Contains(term));
        }
        Total = await q.CountAsync();
        Rows = await q.OrderBy(c => c.Id).Skip((PageNumber - 1) * PageSize).Take(PageSize).Include(c => c.Tags).ThenInclude(t => t.Tag).ToListAsync();
        ElapsedMs = watch.ElapsedMilliseconds;
    }
}
