using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages;

public sealed class LoginModel(DeskDb db, TimeProvider clock, Microsoft.Extensions.Options.IOptions<DeskOptions> options) : PageModel
{
    public bool OidcEnabled => options.Value.Oidc.Enabled;
    public string? Error { get; private set; }
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(string username, string password)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.UserName == username && u.Active);
        if (user is null || user.PasswordHash.Length == 0 || !Passwords.Verify(password ?? "", user.PasswordHash))
        {
            Error = "Wrong user name or password";
            Audit.Record(db, username ?? "", "User", username ?? "", "sign-in-failed", null, null, clock.GetUtcNow());
            await db.SaveChangesAsync();
            return Page();
        }
        var principal = CurrentUser.Principal(user.UserName, user.RoleList, user.TitleList, CookieAuthenticationDefaults.AuthenticationScheme, user.Language);
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
        Audit.Record(db, user.UserName, "User", user.UserName, "sign-in", null, null, clock.GetUtcNow());
        await db.SaveChangesAsync();
        if (user.MustChangePassword) return Redirect("/password");
        return LocalRedirect(string.IsNullOrEmpty(ReturnUrl) || !Url.IsLocalUrl(ReturnUrl) ? "/" : ReturnUrl);
    }
}
