using Grpc.AspNetCore.Server;

namespace Engine.Server.Edge;

/// <summary>
/// Wires the limits at the edge (issue #14 item 5) into a server being built: <see cref="EdgeLimitOptions"/> from
/// <c>Server</c>, Kestrel's connection and HTTP/2 stream limits, and the rate-limit interceptor when
/// <c>Server:RateLimit:Enabled</c>. The Subscribe stream limits are enforced by <see cref="Replication.SubscriberRegistry"/>;
/// message and Execute batch sizes stay in <see cref="Hosting.ServerOptions"/>.
/// </summary>
public static class EdgeLimits
{
    public static WebApplicationBuilder AddEdgeLimits(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(EdgeLimitOptions.SectionName).Get<EdgeLimitOptions>() ?? new EdgeLimitOptions();
        options.Validate();
        builder.Services.Configure<EdgeLimitOptions>(builder.Configuration.GetSection(EdgeLimitOptions.SectionName));
        // Runs after ServerApp's own Kestrel settings (callbacks run in registration order), so these are the last word.
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxConcurrentConnections = options.ConnectionsMax;
            kestrel.Limits.MaxConcurrentUpgradedConnections = options.ConnectionsMax;
            kestrel.Limits.Http2.MaxStreamsPerConnection = options.Http2StreamsPerConnectionMax;
        });
        if (options.RateLimit.Enabled)
        {
            builder.Services.AddSingleton(new RateLimitInterceptor(options.RateLimit));
            builder.Services.Configure<GrpcServiceOptions>(grpc => grpc.Interceptors.Add<RateLimitInterceptor>());
        }
        return builder;
    }
}
