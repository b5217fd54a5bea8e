using System.Security.Cryptography.X509Certificates;

namespace Engine.Client;

/// <summary>Settings of a <see cref="CreditEngineClient"/>.</summary>
public sealed class CreditEngineClientOptions
{
    /// <summary>Deadline of one call including its retries, when the caller gives none. Default 5 s.</summary>
    public TimeSpan DefaultDeadline { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>Attempts per call (1 = no retry). Retries happen only on UNAVAILABLE and RESOURCE_EXHAUSTED and reuse the request (and its request_id). Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;
    /// <summary>First backoff; doubles per attempt up to <see cref="MaxBackoff"/>, with full jitter. Default 20 ms.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(20);
    /// <summary>Largest backoff between attempts. Default 1 s.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>Largest message the client accepts, bytes (a full Execute reply or a 1,000-event page fits). Default 16 MiB.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// The API key of this client's principal, sent as <c>authorization: Bearer &lt;key&gt;</c> on every call (unary,
    /// Subscribe, the multiplexer's Execute streams) of the channels this client creates, replicas' included; null =
    /// none (a server in open mode, or a client certificate). Not applied to a channel passed in: give that channel
    /// its own handler (<see cref="ChannelSecurity.Apply"/>).
    /// </summary>
    public string? ApiKey { get; set; }
    /// <summary>
    /// For https:// addresses: the CA certificate(s) the server's certificate must chain to (instead of the machine's
    /// trust store), e.g. from <c>X509CertificateLoader</c> or <c>ImportFromPemFile</c>. Empty = the system's trust store.
    /// </summary>
    public X509Certificate2Collection TrustedCertificateAuthorities { get; set; } = [];
    /// <summary>For https:// addresses with mutual TLS: the client certificate (with its private key) to present.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// Read replicas to send queries to (round-robin), e.g. <c>http://127.0.0.1:5001</c>; empty = queries go to the
    /// server this client connects to. Commands always go to that server (the leader).
    /// </summary>
    public IList<string> ReplicaAddresses { get; set; } = [];
    /// <summary>
    /// Read your writes: queries carry <c>min_sequence</c> = the highest reply sequence this client has seen (unless the
    /// request asks for more), so a replica answers only once it reflects them. Default true.
    /// </summary>
    public bool ReadYourWrites { get; set; } = true;
    /// <summary>When a replica cannot answer in time (UNAVAILABLE / DEADLINE_EXCEEDED), ask the leader instead. Default true.</summary>
    public bool FallBackToLeader { get; set; } = true;

    /// <summary>
    /// Multiplex command calls: the typed command methods (<c>AuthorizeAsync</c>, <c>RepayAsync</c>, … and
    /// <see cref="CreditEngineClient.ExecuteAsync"/>) of every caller sharing this client are coalesced into
    /// <c>PipelineService.Execute</c> batches on <see cref="CommandBatcherOptions.Streams"/> streams, with the same
    /// deadline, retry and idempotency semantics as unary calls (see <see cref="CommandBatcher"/>). Queries and
    /// subscriptions are unaffected. Off (the default): every command is one unary call.
    /// </summary>
    public bool Multiplex { get; set; }
    /// <summary>Batching settings of the multiplexer when <see cref="Multiplex"/> is on. Defaults: 2 streams, 4 batches in flight per stream, up to 1,000 commands per batch, no flush delay.</summary>
    public CommandBatcherOptions Multiplexing { get; set; } = new() { Streams = 2, InFlightBatchesMax = 4 };

    internal void Validate()
    {
        Multiplexing.Validate();
        ChannelSecurity.ValidateApiKey(ApiKey, nameof(ApiKey));
        foreach (string address in ReplicaAddresses)
        {
            if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"ReplicaAddresses: '{address}' is not an http(s) address");
        }
        if (DefaultDeadline <= TimeSpan.Zero) throw new ArgumentException("DefaultDeadline must be positive");
        if (MaxAttempts < 1) throw new ArgumentException("MaxAttempts must be >= 1");
        if (InitialBackoff <= TimeSpan.Zero || MaxBackoff < InitialBackoff) throw new ArgumentException("0 < InitialBackoff <= MaxBackoff required");
    }
}
