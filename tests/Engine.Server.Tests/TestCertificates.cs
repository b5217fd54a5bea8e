using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Engine.Server.Tests;

/// <summary>
/// Certificates made at test time (nothing checked in): a test CA, a server certificate for 127.0.0.1 / localhost,
/// client certificates issued by that CA, and one client certificate from a foreign CA. Each is also written as PEM
/// (certificate and PKCS#8 key) into <see cref="Directory"/>, which is what the server and replicas read.
/// </summary>
public sealed class TestCertificates
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    public TestCertificates()
    {
        Directory = TestServer.NewDataDirectory();
        Ca = CreateAuthority("Engine Test CA");
        X509Certificate2 foreignCa = CreateAuthority("Someone Else's CA");
        CaPath = Write("ca", Ca, withKey: false).Certificate;
        (ServerCertificatePath, ServerKeyPath) = Write("server", Issue(Ca, "engine-server", ServerAuthentication, server: true));
        Foreign = Issue(foreignCa, "branch-app", ClientAuthentication, server: false);
    }

    public string Directory { get; }
    public X509Certificate2 Ca { get; }
    public string CaPath { get; }
    public string ServerCertificatePath { get; }
    public string ServerKeyPath { get; }
    /// <summary>A client certificate with the same subject as a trusted one, issued by a CA the server does not trust.</summary>
    public X509Certificate2 Foreign { get; }

    public X509Certificate2Collection TrustedAuthorities => [X509CertificateLoader.LoadCertificate(Ca.RawData)];

    /// <summary>The server's TLS settings (and <c>--urls https://127.0.0.1:0</c>).</summary>
    public string[] ServerArguments(params string[] extra) =>
    [
        "--urls", "https://127.0.0.1:0",
        $"--Server:Tls:CertificatePath={ServerCertificatePath}",
        $"--Server:Tls:KeyPath={ServerKeyPath}",
        .. extra,
    ];

    /// <summary>A client certificate issued by the test CA with subject CN=<paramref name="commonName"/>, also written as PEM files.</summary>
    public (X509Certificate2 Certificate, string CertificatePath, string KeyPath) Client(string commonName)
    {
        X509Certificate2 certificate = Issue(Ca, commonName, ClientAuthentication, server: false);
        (string certificatePath, string keyPath) = Write(commonName, certificate);
        return (certificate, certificatePath, keyPath);
    }

    private static X509Certificate2 CreateAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(2));
    }

    private static X509Certificate2 Issue(X509Certificate2 authority, string commonName, Oid usage, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        }
        using X509Certificate2 issued = request.Create(authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    private (string Certificate, string Key) Write(string name, X509Certificate2 certificate, bool withKey = true)
    {
        string certificatePath = Path.Combine(Directory, name + ".crt");
        string keyPath = Path.Combine(Directory, name + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        if (withKey) File.WriteAllText(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }
}
