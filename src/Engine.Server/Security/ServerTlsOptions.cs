using System.Security.Cryptography.X509Certificates;
using Engine.Client;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Engine.Server.Security;

/// <summary>Whether the server asks TLS clients for a certificate (<c>Server:Tls:ClientCertificates</c>).</summary>
public enum ClientCertificatePolicy
{
    /// <summary>No client certificates: callers authenticate with API keys.</summary>
    None,
    /// <summary>A client may present one (validated against the CA); callers without one use API keys.</summary>
    Allow,
    /// <summary>Mutual TLS: the handshake fails without a client certificate issued by the CA.</summary>
    Require,
}

/// <summary>
/// TLS of the server's https:// endpoints, section <c>Server:Tls</c> (README "Access control"): the certificate and
/// key from PEM files, and optionally client certificates checked against a CA of our own (not the system's trust
/// store: a certificate from any public CA must not let anyone in). The certificates are loaded at start-up.
/// </summary>
public sealed class ServerTlsOptions
{
    public const string SectionName = "Server:Tls";

    /// <summary>PEM certificate (chain) of the server; a PKCS#12 file (.pfx/.p12) also works, without <see cref="KeyPath"/>.</summary>
    public string CertificatePath { get; set; } = "";
    /// <summary>PEM private key of <see cref="CertificatePath"/> (PKCS#8 or the key's traditional format).</summary>
    public string KeyPath { get; set; } = "";
    /// <summary>None (default), Allow or Require.</summary>
    public ClientCertificatePolicy ClientCertificates { get; set; } = ClientCertificatePolicy.None;
    /// <summary>PEM file of the CA certificate(s) that client certificates must chain to; required unless ClientCertificates is None.</summary>
    public string ClientCaPath { get; set; } = "";

    public bool Enabled => CertificatePath.Length > 0;

    public static ServerTlsOptions Read(IConfiguration configuration)
    {
        var options = new ServerTlsOptions();
        try
        {
            configuration.GetSection(SectionName).Bind(options);
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"{SectionName}: {e.Message} (ClientCertificates is None, Allow or Require)", e);
        }
        if (options.KeyPath.Length > 0 && options.CertificatePath.Length == 0) throw new ArgumentException("Server:Tls:KeyPath is set without Server:Tls:CertificatePath");
        if (options.ClientCertificates != ClientCertificatePolicy.None && !options.Enabled)
            throw new ArgumentException("Server:Tls:ClientCertificates needs Server:Tls:CertificatePath (client certificates exist only over TLS)");
        if (options.ClientCertificates != ClientCertificatePolicy.None && options.ClientCaPath.Length == 0)
            throw new ArgumentException("Server:Tls:ClientCaPath: the CA that issues client certificates is required when Server:Tls:ClientCertificates is Allow or Require");
        return options;
    }

    /// <summary>Loads the certificate and CA; throws <see cref="ArgumentException"/> naming the setting when a file is missing or unreadable.</summary>
    public (X509Certificate2 Certificate, X509Certificate2Collection ClientCas) Load()
    {
        X509Certificate2 certificate = Loading("Server:Tls:CertificatePath", CertificatePath, () =>
            KeyPath.Length > 0 ? X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath)
            : CertificatePath.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || CertificatePath.EndsWith(".p12", StringComparison.OrdinalIgnoreCase)
                ? X509CertificateLoader.LoadPkcs12FromFile(CertificatePath, password: null)
                : X509Certificate2.CreateFromPemFile(CertificatePath));
        if (!certificate.HasPrivateKey) throw new ArgumentException($"Server:Tls:CertificatePath: '{CertificatePath}' has no private key; give it in Server:Tls:KeyPath");
        var cas = new X509Certificate2Collection();
        if (ClientCaPath.Length > 0) Loading("Server:Tls:ClientCaPath", ClientCaPath, () => { cas.ImportFromPemFile(ClientCaPath); return cas; });
        if (ClientCaPath.Length > 0 && cas.Count == 0) throw new ArgumentException($"Server:Tls:ClientCaPath: '{ClientCaPath}' holds no PEM certificate");
        return (certificate, cas);
    }

    /// <summary>Kestrel's defaults for every https:// endpoint: this certificate, and the client certificate policy.</summary>
    public void Apply(HttpsConnectionAdapterOptions https, X509Certificate2 certificate, X509Certificate2Collection clientCas)
    {
        https.ServerCertificate = certificate;
        https.ClientCertificateMode = ClientCertificates switch
        {
            ClientCertificatePolicy.Require => ClientCertificateMode.RequireCertificate,
            ClientCertificatePolicy.Allow => ClientCertificateMode.AllowCertificate,
            _ => ClientCertificateMode.NoCertificate,
        };
        if (ClientCertificates != ClientCertificatePolicy.None)
            https.ClientCertificateValidation = (presented, _, _) => CertificateTrust.ChainsTo(presented, clientCas, CertificateTrust.ClientAuthentication);
    }

    private static T Loading<T>(string setting, string path, Func<T> load)
    {
        if (!File.Exists(path)) throw new ArgumentException($"{setting}: '{path}' does not exist");
        try
        {
            return load();
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{setting}: cannot load '{path}': {e.Message}", e);
        }
    }
}
