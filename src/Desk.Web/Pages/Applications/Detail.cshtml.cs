using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages.Applications;

[Authorize(Policy = nameof(Permission.CustomersRead))]
public sealed class DetailModel(DeskDb db, CustomerService customers, ApplicationService apps) : PageModel
{
    public CreditApplication? App { get; private set; }
    public string CustomerName { get; private set; } = "";
    public bool CanAct { get; private set; }
    public string? WhyNot { get; private set; }
    public string? Error { get; private set; }
    public List<ApprovalNotice> Notices { get; private set; } = [];
    public List<AuditEntry> AuditEntries { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(long id)
    {
        App = await apps.LoadAsync(id);
        if (App is null) return NotFound();
        var customer = await customers.Visible(User).AsNoTracking().FirstOrDefaultAsync(c => c.Id == App.CustomerId);
        if (customer is null) return NotFound();
        CustomerName = customer.LegalName;
        CanAct = ApprovalFlow.CanAct(App, User.ToActor(), out string? why);
        if (!CanAct && App.Status == ApplicationStatus.InApproval) WhyNot = why;
        Notices = await db.ApprovalNotices.AsNoTracking().Where(n => n.ApplicationId == id).OrderBy(n => n.Id).ToListAsync();
        string key = id.ToString();
        AuditEntries = await db.Audit.AsNoTracking().Where(a => a.EntityType == "Application" && a.EntityId == key).OrderByDescending(a => a.Id).ToListAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(long id, DecisionAction action, string? opinion)
    {
        var result = await apps.DecideAsync(User, id, action, opinion ?? "");
        if (result.Error is null) return Redirect($"/applications/{id}");
        Error = result.Error;
        db.ChangeTracker.Clear();
        return await OnGetAsync(id);
    }
}
