using System.Globalization;
using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages.Applications;

[Authorize(Policy = nameof(Permission.ApplicationsSubmit))]
public sealed class NewModel(CustomerService customers, ScoringService scoring, ApplicationService apps) : PageModel
{
    public Customer? Customer { get; private set; }
    public ScoreResult? Score { get; private set; }
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(long customerId)
    {
        Customer = await customers.Visible(User).Include(c => c.Accounts).FirstOrDefaultAsync(c => c.Id == customerId);
        if (Customer is null) return NotFound();
        Score = await scoring.ScoreAsync(Customer, "application-form", "system:scoring", save: false);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(long customerId, ApplicationKind kind, string? amount, string? expires, string? terms, string reason)
    {
        long amountMinor = 0;
        if (kind != ApplicationKind.PaymentTerms && !Money.TryParseMajor(amount, out amountMinor, out string? amountError)) Error = "amount: " + amountError;
        DateTimeOffset? until = null;
        if (kind == ApplicationKind.TemporaryLimit)
        {
            if (DateTimeOffset.TryParse(expires, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var e)) until = e;
            else Error ??= "expires: a date (yyyy-mm-dd) is required for a temporary limit";
        }
        int? termsDays = int.TryParse(terms, out int t) ? t : null;
        if (Error is null)
        {
            var (app, error) = await apps.SubmitAsync(User, new SubmitRequest(customerId, kind, amountMinor, until, termsDays, reason ?? ""));
            if (app is not null) return Redirect($"/applications/{app.Id}");
            Error = error;
        }
        return await OnGetAsync(customerId) is NotFoundResult ? NotFound() : Page();
    }
}
