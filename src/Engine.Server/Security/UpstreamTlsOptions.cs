using System.Security.Cryptography.X509Certificates;
using Engine.Client;
using Engine.Server.Replication;

namespace Engine.Server.Security;

/// <summary>
/// How a read replica reaches an https:// upstream, section <c>Replica:Tls</c>: the CA its certificate must chain
/// to and, for mutual TLS, the replica's client certificate (PEM). With <c>Replica:ApiKey</c> this is
/// <see cref="ChannelSecurity"/>, the SDK's code, on the replica's channel.
/// </summary>
public sealed class UpstreamTlsOptions
{
    /// <summary>PEM CA certificate(s) the upstream's certificate must chain to; empty = the system's trust store.</summary>
    public string CaCertificatePath { get; set; } = "";
    /// <summary>PEM client certificate presented to the upstream (mutual TLS); empty = none.</summary>
    public string ClientCertificatePath { get; set; } = "";
    /// <summary>PEM private key of <see cref="ClientCertificatePath"/>.</summary>
    public string ClientKeyPath { get; set; } = "";

    public void Validate()
    {
        foreach ((string setting, string path) in new[] { ("CaCertificatePath", CaCertificatePath), ("ClientCertificatePath", ClientCertificatePath), ("ClientKeyPath", ClientKeyPath) })
        {
            if (path.Length > 0 && !File.Exists(path)) throw new ArgumentException($"Replica:Tls:{setting}: '{path}' does not exist");
        }
        if ((ClientCertificatePath.Length > 0) != (ClientKeyPath.Length > 0))
            throw new ArgumentException("Replica:Tls:ClientCertificatePath and Replica:Tls:ClientKeyPath go together");
    }

    /// <summary>The replica's handler towards its upstream: <paramref name="handler"/> with TLS settings and the API key.</summary>
    public static HttpMessageHandler CreateHandler(ReplicaOptions options, SocketsHttpHandler handler)
    {
        UpstreamTlsOptions tls = options.Tls;
        var cas = new X509Certificate2Collection();
        if (tls.CaCertificatePath.Length > 0) cas.ImportFromPemFile(tls.CaCertificatePath);
        X509Certificate2? client = tls.ClientCertificatePath.Length > 0 ? X509Certificate2.CreateFromPemFile(tls.ClientCertificatePath, tls.ClientKeyPath) : null;
        return ChannelSecurity.Apply(handler, options.ApiKey.Length > 0 ? options.ApiKey : null, cas, client);
    }
}
