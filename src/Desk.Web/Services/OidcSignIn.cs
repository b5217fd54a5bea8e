using System.Security.Claims;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

/// <summary>
/// OpenID Connect sign-in: the provider's claims become a desk principal (name, desk roles, titles, stored language),
/// and the person gets a desk user record (source "oidc", no password) so approval routes, escalations and the
/// language setting can name them like local users.
/// </summary>
public static class OidcSignIn
{
    public const string Scheme = "oidc";

    public sealed record Mapped(string UserName, IReadOnlyList<string> Roles, IReadOnlyList<string> Titles);

    /// <summary>
    /// The desk identity of a provider principal, or an error naming the claim. Role values come from
    /// <see cref="OidcOptions.RoleClaim"/> (several claims, or one value separated by commas or spaces, or a JSON array),
    /// each mapped through <see cref="OidcOptions.RoleMap"/> or taken as a desk role name; values naming no desk role are ignored.
    /// </summary>
    public static (Mapped? User, string? Error) Map(ClaimsPrincipal external, OidcOptions options)
    {
        string? name = external.FindFirst(options.NameClaim)?.Value ?? external.FindFirst("sub")?.Value ?? external.FindFirst(ClaimTypes.NameIdentifier)?.Value;
        if (string.IsNullOrWhiteSpace(name)) return (null, $"{options.NameClaim}: the provider sent no user name (nor 'sub')");
        if (name.Length > 128) return (null, $"{options.NameClaim}: longer than 128 characters");
        var roles = new List<string>();
        foreach (string value in Values(external, options.RoleClaim))
        {
            string mapped = options.RoleMap.TryGetValue(value, out string? m) ? m : value;
            foreach (string r in mapped.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string? role = Roles.All.FirstOrDefault(x => string.Equals(x, r, StringComparison.OrdinalIgnoreCase));
                if (role is not null && !roles.Contains(role)) roles.Add(role);
            }
        }
        if (roles.Count == 0) return (null, $"{options.RoleClaim}: the provider's claim maps to no desk role ({string.Join(", ", Roles.All)})");
        var titles = options.TitleClaim is null ? [] : Values(external, options.TitleClaim).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return (new Mapped(name.Trim(), roles, titles), null);
    }

    private static IEnumerable<string> Values(ClaimsPrincipal principal, string claimType)
    {
        foreach (var claim in principal.FindAll(claimType))
        {
            string v = claim.Value.Trim();
            if (v.StartsWith('['))
            {
                string[]? array = null;
                try { array = System.Text.Json.JsonSerializer.Deserialize<string[]>(v); } catch (System.Text.Json.JsonException) { }
                foreach (string a in array ?? []) yield return a;
                continue;
            }
            foreach (string part in v.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) yield return part;
        }
    }

    /// <summary>Wires the scheme: the cookie stays the session, OIDC only signs people in.</summary>
    public static void Configure(OpenIdConnectOptions o, OidcOptions desk)
    {
        o.Authority = desk.Authority;
        o.ClientId = desk.ClientId;
        o.ClientSecret = desk.ClientSecret;
        o.ResponseType = "code";
        o.UsePkce = true;
        o.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        o.CallbackPath = "/signin-oidc";
        o.SignedOutCallbackPath = "/signout-callback-oidc";
        o.RequireHttpsMetadata = desk.RequireHttpsMetadata;
        o.GetClaimsFromUserInfoEndpoint = true;
        o.MapInboundClaims = false; // claim names as the provider sends them ("roles", "preferred_username")
        o.Scope.Clear();
        o.Scope.Add("openid");
        o.Scope.Add("profile");
        o.Events.OnTokenValidated = ctx => SignedInAsync(ctx, desk);
        o.Events.OnUserInformationReceived = ctx => Task.CompletedTask;
    }

    private static async Task SignedInAsync(TokenValidatedContext ctx, OidcOptions desk)
    {
        var (mapped, error) = Map(ctx.Principal!, desk);
        var db = ctx.HttpContext.RequestServices.GetRequiredService<DeskDb>();
        var now = ctx.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        if (mapped is null)
        {
            Audit.Record(db, "system:oidc", "User", ctx.Principal?.FindFirst("sub")?.Value ?? "", "sign-in-refused", null, new { reason = error }, now);
            await db.SaveChangesAsync();
            ctx.Fail(error!);
            return;
        }
        var user = await db.Users.FirstOrDefaultAsync(u => u.UserName == mapped.UserName);
        string roles = string.Join(",", mapped.Roles), titles = string.Join(",", mapped.Titles);
        if (user is null)
        {
            user = new DeskUser { UserName = mapped.UserName, DisplayName = ctx.Principal!.FindFirst("name")?.Value ?? mapped.UserName, Roles = roles, Titles = titles, Source = "oidc", CreatedAt = now };
            db.Users.Add(user);
            Audit.Record(db, "system:oidc", "User", user.UserName, "create", null, new { Roles = roles, Titles = titles, Source = "oidc" }, now);
        }
        else if (!user.Active)
        {
            ctx.Fail($"{desk.NameClaim}: the desk user '{mapped.UserName}' is deactivated");
            return;
        }
        else if (user.Source == "oidc" && (user.Roles != roles || user.Titles != titles))
        {
            Audit.Record(db, "system:oidc", "User", user.UserName, "update", new { user.Roles, user.Titles }, new { Roles = roles, Titles = titles }, now);
            (user.Roles, user.Titles) = (roles, titles);
        }
        Audit.Record(db, user.UserName, "User", user.UserName, "sign-in", null, new { Source = "oidc" }, now);
        await db.SaveChangesAsync();
        // A local user signing in through the provider keeps the provider's roles for this session only.
        ctx.Principal = CurrentUser.Principal(user.UserName, mapped.Roles, mapped.Titles, CookieAuthenticationDefaults.AuthenticationScheme, user.Language);
    }
}
