using Desk.Web.Data;
using Desk.Web.Localization;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages;

/// <summary>The signed-in user's own settings: the page language (stored on the user, carried in the sign-in cookie).</summary>
public sealed class SettingsModel(DeskDb db, TimeProvider clock) : PageModel
{
    public string? Language { get; private set; }
    public bool HasPassword { get; private set; }
    public bool Saved { get; private set; }
    public string? Error { get; private set; }

    public async Task OnGetAsync(bool saved = false)
    {
        Saved = saved;
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.UserName == User.Name());
        (Language, HasPassword) = (user?.Language, user is { PasswordHash.Length: > 0 });
    }

    public async Task<IActionResult> OnPostAsync(string? language)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.UserName == User.Name() && u.Active);
        if (user is null) { Error = "user: this sign-in has no desk user record"; return Page(); }
        HasPassword = user.PasswordHash.Length > 0;
        string? chosen = string.IsNullOrWhiteSpace(language) ? null : DeskText.Normalize(language);
        if (!string.IsNullOrWhiteSpace(language) && chosen is null)
        {
            Error = $"language: '{language}' is not one of {string.Join(", ", DeskText.Languages)} (empty: follow the browser)";
            Language = user.Language;
            return Page();
        }
        if (user.Language != chosen)
        {
            Audit.Record(db, User.AuditName(), "User", user.UserName, "language", new { user.Language }, new { Language = chosen }, clock.GetUtcNow());
            user.Language = chosen;
            await db.SaveChangesAsync();
        }
        // The language travels in the cookie: sign in again with the new claim, keeping the same identity and roles.
        var principal = CurrentUser.Principal(user.UserName, User.RoleList(), User.FindAll(CurrentUser.TitleClaim).Select(c => c.Value), CookieAuthenticationDefaults.AuthenticationScheme, chosen);
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
        // Post/redirect/get: the next page is rendered from the new cookie, so already in the new language.
        return Redirect("/settings?saved=true");
    }
}
