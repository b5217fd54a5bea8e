using Engine.Server.Hosting;
using Grpc.AspNetCore.Server;

namespace Engine.Server.Security;

/// <summary>
/// Wires access control into the server (issue #14 items 1–3; README "Access control"): reads and validates the
/// principals, the key file and TLS, refuses an open server on a reachable address, and installs the authentication
/// middleware, the <see cref="AccessControl"/> interceptor, TLS on https:// endpoints and the key file's reload loop.
/// </summary>
public static class AccessControlSetup
{
    /// <summary>
    /// Call before <c>AddGrpc</c>, so the access interceptor runs first (before audit or limits read the principal).
    /// Throws <see cref="ArgumentException"/> / <see cref="InvalidOperationException"/> for bad settings or a refused
    /// start; the server then exits with <see cref="ServerApp.ExitCodeStartupRefused"/>.
    /// </summary>
    public static WebApplicationBuilder AddAccessControl(this WebApplicationBuilder builder)
    {
        var store = new ApiKeyStore(builder.Configuration);
        ServerTlsOptions tls = ServerTlsOptions.Read(builder.Configuration);
        IReadOnlyList<string> urls = ListenAddresses.From(builder.Configuration, ServerApp.DefaultUrl);
        RefuseOpenOnReachableAddress(store, urls);
        ConfigureTls(builder, tls, urls);

        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(new AccessStartupReport(store.IsConfigured, urls, tls));
        builder.Services.AddHostedService<KeyFileReloader>();
        if (store.IsConfigured)
        {
            builder.Services.AddSingleton<AccessAuthentication>();
            builder.Services.AddSingleton<AccessControl>();
            builder.Services.AddTransient<IStartupFilter, AuthenticationStartupFilter>();
            builder.Services.Configure<GrpcServiceOptions>(grpc => grpc.Interceptors.Add<AccessControl>());
        }
        return builder;
    }

    private static void RefuseOpenOnReachableAddress(ApiKeyStore store, IReadOnlyList<string> urls)
    {
        if (store.IsConfigured) return;
        string[] reachable = [.. urls.Where(url => !ListenAddresses.IsLoopback(url))];
        if (reachable.Length == 0) return;
        throw new InvalidOperationException(
            $"refusing to listen on {string.Join(", ", reachable)} without API keys: anyone who can reach it could raise limits, post and download the ledger. "
            + "Configure keys: Access:Principals:<name>:Roles=<role,...> and Access:Principals:<name>:KeyHashes=<SHA-256 hex of the key> "
            + "(e.g. environment Access__Principals__desk__Roles=account-admin,reader and Access__Principals__desk__KeyHashes=…; "
            + "`Engine.Server new-key` prints a key and its hash, `Engine.Server hash-key <key>` hashes one), or a key file with Access:KeyFile=<path>. "
            + "Roles: " + string.Join(", ", AccessRoles.All) + ". Or listen on 127.0.0.1 only. See README \"Access control\".");
    }

    private static void ConfigureTls(WebApplicationBuilder builder, ServerTlsOptions tls, IReadOnlyList<string> urls)
    {
        bool anyHttps = urls.Any(ListenAddresses.IsHttps);
        if (!tls.Enabled) return;
        if (!anyHttps)
            throw new ArgumentException("Server:Tls:CertificatePath is set but no https:// address is configured; listen with e.g. --urls https://127.0.0.1:5001");
        var (certificate, clientCas) = tls.Load();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => tls.Apply(https, certificate, clientCas)));
    }

    /// <summary>Authenticates every request first thing, so middleware before gRPC (a rate limiter) already sees <c>HttpContext.User</c>.</summary>
    private sealed class AuthenticationStartupFilter(AccessAuthentication authentication) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                authentication.Authenticate(context);
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

/// <summary>What access control decided at start-up, for the start-up log line.</summary>
public sealed record AccessStartupReport(bool KeysConfigured, IReadOnlyList<string> Urls, ServerTlsOptions Tls);
