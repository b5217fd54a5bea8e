using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages;

public sealed class PasswordModel(DeskDb db, TimeProvider clock) : PageModel
{
    public string? Message { get; private set; }
    public bool Ok { get; private set; }

    public void OnGet() { }

    public async Task OnPostAsync(string current, string next)
    {
        var user = await db.Users.FirstAsync(u => u.UserName == User.Name());
        if (!Passwords.Verify(current ?? "", user.PasswordHash)) { Message = "current: wrong password"; return; }
        if (Passwords.Validate(next ?? "") is { } error) { Message = error; return; }
        user.PasswordHash = Passwords.Hash(next!);
        user.MustChangePassword = false;
        Audit.Record(db, User.Name(), "User", user.UserName, "change-password", null, null, clock.GetUtcNow());
        await db.SaveChangesAsync();
        (Ok, Message) = (true, "Password changed");
    }
}
