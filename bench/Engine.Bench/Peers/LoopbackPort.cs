using System.Net;
using System.Net.Sockets;

namespace Engine.Bench.Peers;

/// <summary>Free TCP ports on 127.0.0.1 for servers that cannot be told to pick their own (PostgreSQL, Redis).</summary>
internal static class LoopbackPort
{
    /// <summary>
    /// A port the OS just handed out and released. Another process could take it before the server binds it; the
    /// server then fails to start with a clear "address in use", which is preferable to guessing a fixed port.
    /// </summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
