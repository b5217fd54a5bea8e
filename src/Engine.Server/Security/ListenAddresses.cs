using System.Net;

namespace Engine.Server.Security;

/// <summary>
/// Where the server will listen, read from the same settings Kestrel reads (<c>urls</c> / <c>ASPNETCORE_URLS</c>,
/// <c>http_ports</c>, <c>https_ports</c>, <c>Kestrel:Endpoints:*:Url</c>), with <see cref="Hosting.ServerApp.DefaultUrl"/>
/// when none is given — so start-up can refuse an open server on a reachable address before it listens.
/// </summary>
public static class ListenAddresses
{
    public static IReadOnlyList<string> From(IConfiguration configuration, string defaultUrl)
    {
        var urls = new List<string>();
        if (configuration["urls"] is { Length: > 0 } configured) urls.AddRange(configured.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        // Ports alone bind every interface.
        if (configuration["http_ports"] is { Length: > 0 } httpPorts) urls.AddRange(httpPorts.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => $"http://*:{p.Trim()}"));
        if (configuration["https_ports"] is { Length: > 0 } httpsPorts) urls.AddRange(httpsPorts.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => $"https://*:{p.Trim()}"));
        foreach (IConfigurationSection endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url) urls.Add(url);
        }
        if (urls.Count == 0) urls.Add(defaultUrl);
        return urls;
    }

    /// <summary>True for localhost, 127.0.0.0/8, ::1 and Unix sockets: addresses only this machine can reach.</summary>
    public static bool IsLoopback(string url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return false; // Kestrel will refuse it anyway; never count an unknown as safe
        }
        if (address.IsUnixPipe) return true;
        string host = address.Host.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out IPAddress? ip) && IPAddress.IsLoopback(ip);
    }

    public static bool IsHttps(string url) => url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
}
