using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages.Applications;

[Authorize(Policy = nameof(Permission.CustomersRead))]
public sealed class IndexModel(DeskDb db, CustomerService customers) : PageModel
{
    public List<CreditApplication> Rows { get; private set; } = [];

    public async Task OnGetAsync()
    {
        var visible = customers.Visible(User).Select(c => c.Id);
        Rows = await db.Applications.AsNoTracking().Include(a => a.Steps).Where(a => visible.Contains(a.CustomerId)).OrderByDescending(a => a.Id).Take(200).ToListAsync();
    }
}
