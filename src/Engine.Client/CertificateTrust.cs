using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Engine.Client;

/// <summary>
/// Certificate checks against a CA of our own rather than the machine's trust store: the server checks client
/// certificates this way (<c>Server:Tls:ClientCaPath</c>) and the SDK and replicas check the server's
/// (<see cref="CreditEngineClientOptions.TrustedCertificateAuthorities"/>).
/// </summary>
public static class CertificateTrust
{
    /// <summary>Extended key usage of a TLS server certificate (1.3.6.1.5.5.7.3.1).</summary>
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    /// <summary>Extended key usage of a TLS client certificate (1.3.6.1.5.5.7.3.2).</summary>
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <summary>
    /// True when <paramref name="certificate"/> chains to one of <paramref name="roots"/> (only those are trusted),
    /// is valid now and allows <paramref name="usage"/>. Revocation is not checked: a private CA here has no CRL
    /// endpoint; remove a compromised certificate's principal mapping instead.
    /// </summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection roots, Oid usage)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(usage);
        return chain.Build(certificate);
    }
}
