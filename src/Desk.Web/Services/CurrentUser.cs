using System.Security.Claims;
using Desk.Domain;

namespace Desk.Web.Services;

/// <summary>The signed-in person or API client as the desk's rules see them.</summary>
public static class CurrentUser
{
    public const string TitleClaim = "desk:title";
    /// <summary>The user's stored page language ("zh-CN" or "en"); absent when the user follows the browser.</summary>
    public const string LanguageClaim = "desk:lang";

    public static string Name(this ClaimsPrincipal user) => user.Identity?.Name ?? "anonymous";

    public static IReadOnlyList<string> RoleList(this ClaimsPrincipal user) => user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList();

    public static bool Can(this ClaimsPrincipal user, Permission permission) => Permissions.Allows(user.RoleList(), permission);

    public static Actor ToActor(this ClaimsPrincipal user) =>
        new(user.Name(), user.RoleList(), user.FindAll(TitleClaim).Select(c => c.Value).ToList());

    /// <summary>The audit actor: the user name, or "api:{client}" for API keys.</summary>
    public static string AuditName(this ClaimsPrincipal user) => user.Identity?.AuthenticationType == ApiKeyAuthentication.SchemeName ? "api:" + user.Name() : user.Name();

    public static ClaimsPrincipal Principal(string name, IEnumerable<string> roles, IEnumerable<string> titles, string scheme, string? language = null)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        claims.AddRange(titles.Select(t => new Claim(TitleClaim, t)));
        if (Localization.DeskText.Normalize(language) is { } l) claims.Add(new Claim(LanguageClaim, l));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }
}
