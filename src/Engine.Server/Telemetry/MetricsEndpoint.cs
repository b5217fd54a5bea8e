using Engine.Core;
using Engine.Server.Edge;
using Engine.Server.Replication;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Engine.Server.Telemetry;

/// <summary>
/// Metrics for Prometheus (issue #14 item 6): OpenTelemetry's MeterProvider over the server's meters
/// (<see cref="EngineMetrics.MeterName"/>, <see cref="ReplicationMetrics.MeterName"/>, <see cref="EdgeMetrics.MeterName"/>),
/// Kestrel's and the runtime's (GC pauses, heap, thread pool), exported in the Prometheus text format on
/// <c>Server:MetricsUrl</c> (e.g. <c>http://127.0.0.1:9464/</c>, scraped at <c>/metrics</c>). Off when unset (the default):
/// a second port is opened only when asked for. The exporter is OpenTelemetry's HttpListener one, a listener of its own
/// beside Kestrel, so the metrics port never serves gRPC and the gRPC ports never serve metrics, whatever Kestrel's
/// endpoints, TLS or access control are. The meters exist either way (<c>dotnet-counters</c> reads them).
/// </summary>
public static class MetricsEndpoint
{
    public const string UrlKey = "Server:MetricsUrl";
    private const string AnyHost = "*";

    public static WebApplicationBuilder AddMetricsEndpoint(this WebApplicationBuilder builder)
    {
        string? url = builder.Configuration[UrlKey];
        if (string.IsNullOrWhiteSpace(url)) return builder;
        (string host, int port) = Parse(url);
        builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("credit-engine")).WithMetrics(metrics => metrics
            .AddMeter(EngineMetrics.MeterName, ReplicationMetrics.MeterName, EdgeMetrics.MeterName)
            // Built into ASP.NET Core: connections (active, queued, rejected beyond Server:ConnectionsMax) and request durations.
            .AddMeter("Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Hosting")
            .AddRuntimeInstrumentation()
            .AddPrometheusHttpListener(listener =>
            {
                listener.Port = port;
                if (host != AnyHost)
                {
                    listener.Host = host;
                    return;
                }
                // The exporter builds its prefix with System.Uri, which rejects "*": replace it on the listener itself.
                listener.ConfigureHttpListener = (_, http) =>
                {
                    http.Prefixes.Clear();
                    http.Prefixes.Add($"http://*:{port}/");
                };
            }));
        return builder;
    }

    /// <summary>
    /// <c>http://host:port/</c>; the host <c>*</c> or <c>+</c> listens on every interface (what a container needs:
    /// HttpListener then answers whatever host name the scraper uses), anything else on that address or name only.
    /// </summary>
    private static (string Host, int Port) Parse(string url)
    {
        string trimmed = url.Trim();
        foreach (string any in new[] { "http://*:", "http://+:" })
        {
            if (trimmed.StartsWith(any, StringComparison.Ordinal) && int.TryParse(trimmed[any.Length..].TrimEnd('/'), out int anyPort) && anyPort is > 0 and < 65536)
                return (AnyHost, anyPort);
        }
        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/" || uri.IsDefaultPort)
            throw new ArgumentException($"{UrlKey} must be an http URL with a host and port and no path, e.g. http://127.0.0.1:9464/ (got '{url}')");
        return (uri.Host, uri.Port);
    }
}
