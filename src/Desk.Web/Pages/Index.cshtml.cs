using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages;

public sealed class IndexModel(DeskDb db, CustomerService customers) : PageModel
{
    public List<CreditApplication> Waiting { get; private set; } = [];
    public int PendingWriteBacks { get; private set; }
    public int Customers { get; private set; }

    public async Task OnGetAsync()
    {
        var actor = User.ToActor();
        var open = await db.Applications.AsNoTracking().Include(a => a.Steps).Include(a => a.Decisions)
            .Where(a => a.Status == ApplicationStatus.InApproval).OrderBy(a => a.Id).Take(500).ToListAsync();
        Waiting = open.Where(a => ApprovalFlow.CanAct(a, actor, out _)).Take(50).ToList();
        PendingWriteBacks = await db.Applications.CountAsync(a => a.WriteBack == WriteBackState.Pending || a.WriteBack == WriteBackState.Declined);
        Customers = await customers.Visible(User).CountAsync();
    }
}
