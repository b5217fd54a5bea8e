using System.Security.Cryptography;
using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages.Admin;

public sealed class UsersModel(DeskDb db, TimeProvider clock) : PageModel
{
    public List<DeskUser> Users { get; private set; } = [];
    public List<ApiClient> Clients { get; private set; } = [];
    public string? Message { get; private set; }
    public bool Ok { get; private set; }

    public Task OnGetAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        Users = await db.Users.AsNoTracking().OrderBy(u => u.UserName).ToListAsync();
        Clients = await db.ApiClients.AsNoTracking().OrderBy(c => c.Name).ToListAsync();
    }

    public async Task OnPostCreateAsync(string userName, string roles, string? titles, string? password)
    {
        var (ok, message) = await UserAdmin.SaveAsync(db, User.AuditName(), userName, roles, titles, password, clock.GetUtcNow());
        (Ok, Message) = (ok, message);
        await LoadAsync();
    }

    public async Task OnPostClientAsync(string name, string roles)
    {
        IReadOnlyList<string> parsed;
        try { parsed = Roles.Parse(roles ?? ""); }
        catch (ArgumentException e) { (Ok, Message) = (false, "roles: " + e.Message); await LoadAsync(); return; }
        string key = "dk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        db.ApiClients.Add(new ApiClient { Name = name, KeyHash = Passwords.HashApiKey(key), Roles = string.Join(",", parsed), CreatedAt = clock.GetUtcNow() });
        Audit.Record(db, User.AuditName(), "ApiClient", name, "create", null, new { roles = parsed }, clock.GetUtcNow());
        await db.SaveChangesAsync();
        (Ok, Message) = (true, $"API key for {name} (shown once): {key}");
        await LoadAsync();
    }
}

public static class UserAdmin
{
    public static async Task<(bool Ok, string Message)> SaveAsync(DeskDb db, string actor, string userName, string roles, string? titles, string? password, DateTimeOffset now)
    {
        userName = (userName ?? "").Trim();
        if (userName.Length is 0 or > 64 || userName.Any(char.IsWhiteSpace)) return (false, "user_name: 1-64 characters without spaces");
        IReadOnlyList<string> parsed;
        try { parsed = Roles.Parse(roles ?? ""); }
        catch (ArgumentException e) { return (false, "roles: " + e.Message); }
        if (parsed.Count == 0) return (false, "roles: at least one");
        string titleText = string.Join(",", (titles ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var user = await db.Users.FirstOrDefaultAsync(u => u.UserName == userName);
        if (user is null)
        {
            if (Passwords.Validate(password ?? "") is { } error) return (false, error);
            user = new DeskUser { UserName = userName, DisplayName = userName, PasswordHash = Passwords.Hash(password!), MustChangePassword = true, CreatedAt = now };
            db.Users.Add(user);
            Audit.Record(db, actor, "User", userName, "create", null, new { roles = parsed, titles = titleText }, now);
        }
        else
        {
            Audit.Record(db, actor, "User", userName, "update", new { user.Roles, user.Titles }, new { Roles = string.Join(",", parsed), Titles = titleText }, now);
            if (!string.IsNullOrEmpty(password))
            {
                if (Passwords.Validate(password) is { } error) return (false, error);
                user.PasswordHash = Passwords.Hash(password);
                user.MustChangePassword = true;
            }
        }
        user.Roles = string.Join(",", parsed);
        user.Titles = titleText;
        await db.SaveChangesAsync();
        return (true, $"saved {userName}");
    }
}
