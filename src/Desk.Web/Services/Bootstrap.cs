using System.Text.Json;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

/// <summary>First start: migrate, store the default route policy and scoring model, create the first admin.</summary>
public static class Bootstrap
{
    public const string AdminUserName = "admin";

    /// <summary>Returns the first admin's one-time password when it was just created, else null.</summary>
    public static async Task<string?> RunAsync(IServiceProvider services, ILogger log)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        var clock = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        await db.Database.MigrateAsync();
        string deskId = await DeskIdentity.EnsureAsync(db);
        log.LogInformation("desk id {DeskId} (prefix of the request ids it sends to the engine)", deskId);
        var now = clock.GetUtcNow();
        if (!await db.RoutePolicies.AnyAsync())
        {
            db.RoutePolicies.Add(new RoutePolicyVersion { Version = 1, Json = JsonSerializer.Serialize(RoutePolicy.Default(), Policies.Json), CreatedBy = "system:bootstrap", CreatedAt = now });
            Audit.Record(db, "system:bootstrap", "RoutePolicy", 1, "create-version", null, new { version = 1, source = "docs/DESK.md default" }, now);
        }
        if (!await db.ScoringModels.AnyAsync())
        {
            db.ScoringModels.Add(new ScoringModelVersion { Version = 1, Json = JsonSerializer.Serialize(ScoringModel.Default(), Policies.Json), CreatedBy = "system:bootstrap", CreatedAt = now });
            Audit.Record(db, "system:bootstrap", "ScoringModel", 1, "create-version", null, new { version = 1 }, now);
        }
        string? password = null;
        if (!await db.Users.AnyAsync())
        {
            password = Passwords.Generate();
            db.Users.Add(new DeskUser
            {
                UserName = AdminUserName, DisplayName = "Administrator", PasswordHash = Passwords.Hash(password), Roles = Roles.Admin,
                MustChangePassword = true, CreatedAt = now,
            });
            Audit.Record(db, "system:bootstrap", "User", AdminUserName, "create", null, new { Roles = Roles.Admin }, now);
        }
        await db.SaveChangesAsync();
        return password;
    }
}
