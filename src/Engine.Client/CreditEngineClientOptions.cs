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

    internal void Validate()
    {
        if (DefaultDeadline <= TimeSpan.Zero) throw new ArgumentException("DefaultDeadline must be positive");
        if (MaxAttempts < 1) throw new ArgumentException("MaxAttempts must be >= 1");
        if (InitialBackoff <= TimeSpan.Zero || MaxBackoff < InitialBackoff) throw new ArgumentException("0 < InitialBackoff <= MaxBackoff required");
    }
}
