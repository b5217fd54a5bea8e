using System.Text.Encodings.Web;
using Desk.Web.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Desk.Web.Services;

/// <summary>API keys per client system, sent as the X-Api-Key header; a client holds roles like a person.</summary>
public sealed class ApiKeyAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, DeskDb db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(Header, out var values) || values.Count == 0) return AuthenticateResult.NoResult();
        string hash = Passwords.HashApiKey(values[0] ?? "");
        var client = await db.ApiClients.AsNoTracking().FirstOrDefaultAsync(c => c.KeyHash == hash && c.Active);
        if (client is null) return AuthenticateResult.Fail("unknown or revoked API key");
        var principal = CurrentUser.Principal(client.Name, client.Roles.Split(',', StringSplitOptions.RemoveEmptyEntries), [], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }
}
