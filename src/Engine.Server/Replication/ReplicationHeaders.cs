namespace Engine.Server.Replication;

/// <summary>
/// Metadata keys of replication. Subscribe sends <see cref="HeadSequence"/> in its response headers at once, so a
/// follower knows the stream is up (and how far behind it is) before the first event. Query replies carry the
/// others in their trailers: the position and freshness of the answer.
/// </summary>
public static class ReplicationHeaders
{
    /// <summary>The newest durable sequence the server knew of.</summary>
    public const string HeadSequence = "credit-head-sequence";
    /// <summary>
    /// Subscribe response header: the log epoch of the stream (ReplicationStatus.log_epoch). A follower that resumes
    /// under another epoch than it started with must stop: the log was cut and sequences after the cut re-used.
    /// </summary>
    public const string LogEpoch = "credit-log-epoch";
    /// <summary>The sequence the answer reflects (also in the reply's <c>sequence</c> field).</summary>
    public const string AppliedSequence = "credit-applied-sequence";
    /// <summary>head - applied, events.</summary>
    public const string LagEvents = "credit-lag-events";
    /// <summary>Lag in milliseconds (ReplicationStatus.lag_ms).</summary>
    public const string LagMs = "credit-lag-ms";
    /// <summary>"true" / "false": a read replica's stream to its upstream is up. Absent on a leader.</summary>
    public const string LeaderConnected = "credit-leader-connected";
}
