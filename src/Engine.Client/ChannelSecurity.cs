using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Engine.Client;

/// <summary>
/// Credentials of a channel to the engine: the API key as <c>authorization: Bearer &lt;key&gt;</c> on every HTTP/2
/// request (so on every call: unary, Subscribe, and each Execute stream of the multiplexer), and for https://
/// addresses the CA to trust and the client certificate to present. Used by <see cref="CreditEngineClient"/> and by
/// read replicas following their upstream.
/// </summary>
public static class ChannelSecurity
{
    /// <summary>
    /// Configures <paramref name="handler"/>'s TLS (when a CA or a client certificate is given) and wraps it so
    /// every request carries the key (when given). The returned handler is what <c>GrpcChannelOptions.HttpHandler</c> takes.
    /// </summary>
    public static HttpMessageHandler Apply(SocketsHttpHandler handler, string? apiKey, X509Certificate2Collection? trustedAuthorities, X509Certificate2? clientCertificate)
    {
        if (trustedAuthorities is { Count: > 0 })
        {
            X509Certificate2Collection roots = trustedAuthorities;
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                // The name must match (errors other than the chain's); the chain is judged against our CA only.
                (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
                && certificate is not null
                && CertificateTrust.ChainsTo(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), roots, CertificateTrust.ServerAuthentication);
        }
        if (clientCertificate is not null)
        {
            if (!clientCertificate.HasPrivateKey) throw new ArgumentException("ClientCertificate has no private key", nameof(clientCertificate));
            handler.SslOptions.ClientCertificates = [clientCertificate];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }
        return string.IsNullOrEmpty(apiKey) ? handler : new BearerKeyHandler(apiKey, handler);
    }

    /// <summary>Checks a key can travel in a header: printable ASCII without spaces, 1..4,096 characters.</summary>
    public static void ValidateApiKey(string? apiKey, string setting)
    {
        if (apiKey is null) return;
        if (apiKey.Length is 0 or > 4096 || !apiKey.All(c => c is > ' ' and <= '~'))
            throw new ArgumentException($"{setting} must be 1..4,096 printable ASCII characters without spaces");
    }

    private sealed class BearerKeyHandler(string apiKey, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly AuthenticationHeaderValue _header = new("Bearer", apiKey);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = _header;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
