using System.Net;
using System.Security.Claims;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Desk.Web.Tests;

public class OidcTests
{
    /// <summary>A local stand-in for an OpenID Connect provider: it serves only the discovery document and an empty key set.</summary>
    private static async Task<WebApplication> StartProviderAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/.well-known/openid-configuration", (HttpContext ctx) =>
        {
            string issuer = $"http://{ctx.Request.Host}";
            return Results.Text($$"""
                {"issuer":"{{issuer}}","authorization_endpoint":"{{issuer}}/authorize","token_endpoint":"{{issuer}}/token",
                 "userinfo_endpoint":"{{issuer}}/userinfo","jwks_uri":"{{issuer}}/jwks","end_session_endpoint":"{{issuer}}/logout",
                 "response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}
                """, "application/json");
        });
        app.MapGet("/jwks", () => Results.Text("""{"keys":[]}""", "application/json"));
        await app.StartAsync();
        return app;
    }

    private static string AddressOf(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    [Fact]
    public async Task Oidc_settings_add_the_scheme_and_send_people_to_the_provider_with_the_client_id_and_pkce()
    {
        await using var provider = await StartProviderAsync();
        string authority = AddressOf(provider);
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync(), null,
            $"--Desk:Oidc:Authority={authority}", "--Desk:Oidc:ClientId=credit-desk", "--Desk:Oidc:ClientSecret=s3cret",
            "--Desk:Oidc:RequireHttpsMetadata=false", "--Desk:Oidc:RoleClaim=groups");
        var schemes = desk.Services.GetRequiredService<IAuthenticationSchemeProvider>();
        Assert.NotNull(await schemes.GetSchemeAsync(OidcSignIn.Scheme));

        using var anonymous = new DeskClient(desk.Address);
        var page = await anonymous.Http.GetAsync("/customers");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login/oidc", page.Headers.Location!.PathAndQuery);

        var challenge = await anonymous.Http.GetAsync("/login/oidc?returnUrl=/customers");
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        string location = challenge.Headers.Location!.ToString();
        Assert.StartsWith(authority + "/authorize?", location);
        Assert.Contains("client_id=credit-desk", location);
        Assert.Contains("response_type=code", location);
        Assert.Contains("code_challenge=", location);
        Assert.Contains("redirect_uri=" + Uri.EscapeDataString(desk.Address + "/signin-oidc"), location);
        // The local sign-in page stays (bootstrap admin) and offers the provider.
        Assert.Contains("id=\"sign-in-oidc\"", await anonymous.Http.GetStringAsync("/login"));
    }

    [Fact]
    public async Task Without_oidc_settings_sign_in_is_local_only()
    {
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync());
        var schemes = desk.Services.GetRequiredService<IAuthenticationSchemeProvider>();
        Assert.Null(await schemes.GetSchemeAsync(OidcSignIn.Scheme));
        using var anonymous = new DeskClient(desk.Address);
        Assert.StartsWith("/login?", (await anonymous.Http.GetAsync("/customers")).Headers.Location!.PathAndQuery);
        Assert.DoesNotContain("sign-in-oidc", await anonymous.Http.GetStringAsync("/login"));
    }

    private static ClaimsPrincipal External(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)), "oidc"));

    [Fact]
    public void Provider_role_values_map_to_desk_roles_through_the_role_map_or_by_name()
    {
        var options = new OidcOptions { RoleClaim = "groups", TitleClaim = "titles" };
        options.RoleMap["CN=Credit-Finance"] = "finance";
        options.RoleMap["Credit-Bosses"] = "manager, risk";
        var (user, error) = OidcSignIn.Map(External(("preferred_username", "li.wei"), ("groups", "CN=Credit-Finance"), ("groups", "Credit-Bosses"),
            ("groups", "Sales"), ("groups", "Printer-Users"), ("titles", "finance-director")), options);
        Assert.Null(error);
        Assert.Equal("li.wei", user!.UserName);
        Assert.Equal(["finance", "manager", "risk", "sales"], user.Roles); // unknown groups are ignored, desk names are case-insensitive
        Assert.Equal(["finance-director"], user.Titles);
    }

    [Fact]
    public void A_role_claim_sent_as_one_json_array_or_a_spaced_list_is_split()
    {
        var options = new OidcOptions();
        Assert.Equal(["collections", "sales"], OidcSignIn.Map(External(("sub", "u1"), ("roles", "[\"collections\",\"sales\"]")), options).User!.Roles);
        Assert.Equal(["risk", "admin"], OidcSignIn.Map(External(("sub", "u1"), ("roles", "risk admin")), options).User!.Roles);
        Assert.Equal("u1", OidcSignIn.Map(External(("sub", "u1"), ("roles", "risk")), options).User!.UserName); // no preferred_username: sub
    }

    [Fact]
    public void A_provider_user_without_any_desk_role_is_refused_naming_the_claim()
    {
        var (user, error) = OidcSignIn.Map(External(("preferred_username", "guest"), ("roles", "Everyone")), new OidcOptions());
        Assert.Null(user);
        Assert.StartsWith("roles: ", error);
        var (nobody, why) = OidcSignIn.Map(External(("roles", "finance")), new OidcOptions());
        Assert.Null(nobody);
        Assert.StartsWith("preferred_username: ", why);
    }
}
