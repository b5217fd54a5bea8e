namespace Engine.Server.Edge;

/// <summary>
/// Limits at the edge (issue #14 item 5), bound from configuration section <c>Server</c> beside
/// <see cref="Hosting.ServerOptions"/>: concurrent Subscribe streams, Kestrel connections and HTTP/2 streams, and the
/// optional rate limit per principal. Every limit is documented in README.md "Limits".
/// </summary>
public sealed class EdgeLimitOptions
{
    public const string SectionName = "Server";

    /// <summary>Open Subscribe streams on this server, all principals together; one more is RESOURCE_EXHAUSTED.</summary>
    public int SubscribeStreamsMax { get; set; } = 256;
    /// <summary>Open Subscribe streams of one principal ("anonymous" without access control); one more is RESOURCE_EXHAUSTED.</summary>
    public int SubscribeStreamsPerPrincipalMax { get; set; } = 64;
    /// <summary>Kestrel's MaxConcurrentConnections: connections beyond it are closed at once (HTTP/2 has no status for it).</summary>
    public long ConnectionsMax { get; set; } = 4096;
    /// <summary>HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: calls in flight on one connection; a client queues beyond it.</summary>
    public int Http2StreamsPerConnectionMax { get; set; } = 1024;
    /// <summary>The optional token bucket per principal (off by default).</summary>
    public RateLimitOptions RateLimit { get; set; } = new();

    public void Validate()
    {
        if (SubscribeStreamsMax is < 1 or > 100_000) throw new ArgumentException("Server:SubscribeStreamsMax must be 1..100,000");
        if (SubscribeStreamsPerPrincipalMax < 1 || SubscribeStreamsPerPrincipalMax > SubscribeStreamsMax)
            throw new ArgumentException("Server:SubscribeStreamsPerPrincipalMax must be 1..Server:SubscribeStreamsMax");
        if (ConnectionsMax is < 1 or > 1_000_000) throw new ArgumentException("Server:ConnectionsMax must be 1..1,000,000");
        if (Http2StreamsPerConnectionMax is < 1 or > 100_000) throw new ArgumentException("Server:Http2StreamsPerConnectionMax must be 1..100,000");
        RateLimit.Validate();
    }
}

/// <summary>
/// <c>Server:RateLimit:*</c>: a token bucket per principal. Every unary or server-streaming call takes one token, every
/// message of a client stream (an Execute batch) one; an empty bucket refuses the call with RESOURCE_EXHAUSTED.
/// Health checks and reflection are never limited.
/// </summary>
public sealed class RateLimitOptions
{
    public bool Enabled { get; set; }
    /// <summary>Tokens added to each principal's bucket per second (the sustained rate).</summary>
    public int TokensPerSecond { get; set; } = 1000;
    /// <summary>Size of the bucket: the burst a principal may send at once after being idle.</summary>
    public int TokensMax { get; set; } = 2000;

    public void Validate()
    {
        if (TokensPerSecond is < 1 or > 10_000_000) throw new ArgumentException("Server:RateLimit:TokensPerSecond must be 1..10,000,000");
        if (TokensMax < 1 || TokensMax > 100_000_000) throw new ArgumentException("Server:RateLimit:TokensMax must be 1..100,000,000");
    }
}
