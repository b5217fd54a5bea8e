using Desk.Domain;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Desk.Web.Pages.Customers;

[Authorize(Policy = nameof(Permission.CustomersWrite))]
public sealed class EditModel(CustomerService customers) : PageModel
{
    [BindProperty] public Customer Input { get; set; } = new();
    public string? Error { get; private set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!User.Can(Permission.CustomersReadAll)) Input.OwnerUserName = User.Name();
        var (created, error) = await customers.CreateAsync(Input, User.AuditName());
        if (created is null) { Error = error; return Page(); }
        return Redirect($"/customers/{created.Id}");
    }
}
