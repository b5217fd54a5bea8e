using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Primitives;

namespace Engine.Server.Security;

/// <summary>The outcome of authenticating one request: a principal, or why there is none.</summary>
public readonly record struct AuthenticationResult(AccessPrincipal? Principal, string? Failure);

/// <summary>
/// Who sent a request: the API key of its <c>authorization: Bearer &lt;key&gt;</c> header (gRPC metadata), else its
/// TLS client certificate (already validated against <c>Server:Tls:ClientCaPath</c> during the handshake). On
/// success <see cref="HttpContext.User"/> becomes the principal's user, so anything later in the request (the audit
/// actor, per-principal limits) reads <c>HttpContext.User.Identity.Name</c>. The result is kept in the request's
/// items, so the middleware (which runs before any other, for the rate limiter's sake) and the gRPC interceptor
/// authenticate once between them.
/// </summary>
public sealed class AccessAuthentication(ApiKeyStore store)
{
    private const string BearerPrefix = "Bearer ";
    private static readonly object ItemKey = new();

    public AuthenticationResult Authenticate(HttpContext context)
    {
        if (context.Items.TryGetValue(ItemKey, out object? cached) && cached is AuthenticationResult known) return known;
        AuthenticationResult result = Decide(context);
        context.Items[ItemKey] = result;
        if (result.Principal is { } principal)
        {
            string how = context.Request.Headers.Authorization.Count > 0 ? AccessPrincipal.ApiKeyAuthentication : AccessPrincipal.CertificateAuthentication;
            context.User = principal.User(how);
        }
        return result;
    }

    private AuthenticationResult Decide(HttpContext context)
    {
        PrincipalSet principals = store.Current;
        StringValues authorization = context.Request.Headers.Authorization;
        if (authorization.Count > 0)
        {
            if (authorization.Count > 1) return Fail("send one 'authorization' header, not several");
            string header = authorization[0] ?? "";
            if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase) || header.Length == BearerPrefix.Length)
                return Fail("the 'authorization' metadata must be 'Bearer <key>'");
            AccessPrincipal? byKey = principals.FindByKey(header.AsSpan(BearerPrefix.Length).Trim());
            return byKey is null ? Fail("unknown API key") : new AuthenticationResult(byKey, null);
        }
        if (context.Connection.ClientCertificate is X509Certificate2 certificate)
        {
            AccessPrincipal? byCertificate = principals.FindByCertificate(certificate);
            return byCertificate is null
                ? Fail($"the client certificate '{certificate.Subject}' (SHA-256 {certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256)}) is not mapped to a principal")
                : new AuthenticationResult(byCertificate, null);
        }
        return Fail("no credentials: send the metadata 'authorization: Bearer <key>' (or a client certificate mapped to a principal)");
    }

    private static AuthenticationResult Fail(string why) => new(null, why);
}
