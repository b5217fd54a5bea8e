using System.Security.Claims;

namespace Engine.Server.Security;

/// <summary>
/// A caller the server knows: a name (what the audit trail records as the actor) and its roles. Authentication turns
/// it into <see cref="HttpContext.User"/>: an authenticated <see cref="ClaimsPrincipal"/> whose <c>Identity.Name</c>
/// is <see cref="Name"/> and with one <see cref="ClaimTypes.Role"/> claim per role.
/// </summary>
public sealed class AccessPrincipal
{
    public const string ApiKeyAuthentication = "ApiKey";
    public const string CertificateAuthentication = "ClientCertificate";

    private readonly ClaimsPrincipal _byKey;
    private readonly ClaimsPrincipal _byCertificate;

    public AccessPrincipal(string name, IReadOnlyList<string> roles)
    {
        Name = name;
        Roles = roles;
        _byKey = CreateUser(name, roles, ApiKeyAuthentication);
        _byCertificate = CreateUser(name, roles, CertificateAuthentication);
    }

    public string Name { get; }
    public IReadOnlyList<string> Roles { get; }

    public bool HasRole(string role) => Roles.Contains(role, StringComparer.Ordinal);

    public bool HasAnyRole(IEnumerable<string> roles) => roles.Any(HasRole);

    /// <summary>
    /// The user for <see cref="HttpContext.User"/>, built once per principal and shared by its calls (nobody adds
    /// identities to it: it is read for the actor name and the roles only).
    /// </summary>
    public ClaimsPrincipal User(string authenticationType) => authenticationType == CertificateAuthentication ? _byCertificate : _byKey;

    private static ClaimsPrincipal CreateUser(string name, IReadOnlyList<string> roles, string authenticationType)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        claims.AddRange(roles.Select(role => new Claim(ClaimTypes.Role, role)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType, ClaimTypes.Name, ClaimTypes.Role));
    }
}
