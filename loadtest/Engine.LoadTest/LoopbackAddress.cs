using System.Net;

namespace Engine.LoadTest;

/// <summary>
/// The load generator only ever targets this machine: 127.0.0.0/8, ::1 or the name <c>localhost</c>.
/// No other name is resolved, so a DNS entry cannot point the load somewhere else.
/// </summary>
public static class LoopbackAddress
{
    public static bool IsLoopback(Uri address)
    {
        if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        string host = address.Host.Trim('[', ']');
        return IPAddress.TryParse(host, out IPAddress? ip) && IPAddress.IsLoopback(ip);
    }
}
