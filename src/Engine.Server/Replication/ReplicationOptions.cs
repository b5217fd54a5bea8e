namespace Engine.Server.Replication;

/// <summary>What this server is: <c>Engine:Mode</c> and <c>Engine:LeaderUrl</c>.</summary>
public sealed class ServerRoleOptions
{
    public const string Leader = "Leader";
    public const string ReadReplica = "ReadReplica";

    /// <summary><c>Leader</c> (default): runs the engine. <c>ReadReplica</c>: follows <see cref="LeaderUrl"/> and serves queries.</summary>
    public string Mode { get; set; } = Leader;
    /// <summary>The server a read replica follows (a leader, or another replica): http://host:port.</summary>
    public string LeaderUrl { get; set; } = "";

    public bool IsReplica => string.Equals(Mode, ReadReplica, StringComparison.OrdinalIgnoreCase);

    public void Validate()
    {
        if (!string.Equals(Mode, Leader, StringComparison.OrdinalIgnoreCase) && !IsReplica)
            throw new ArgumentException($"Engine:Mode is '{Mode}'; it must be '{Leader}' or '{ReadReplica}'");
        if (IsReplica && (!Uri.TryCreate(LeaderUrl, UriKind.Absolute, out Uri? leader) || leader.Scheme is not ("http" or "https")))
            throw new ArgumentException($"Engine:LeaderUrl is '{LeaderUrl}'; a read replica needs the leader's address, e.g. http://127.0.0.1:5000");
    }
}

/// <summary>Settings of a read replica, bound from configuration section <c>Replica</c>.</summary>
public sealed class ReplicaOptions
{
    public const string SectionName = "Replica";

    /// <summary>The name this replica gives the leader (shown in the leader's GetStatus); default replica@{urls}.</summary>
    public string Name { get; set; } = "";
    /// <summary>How often the replica makes its copy of the log durable (one fsync); what it applied since is re-fetched after a crash.</summary>
    public int CommitIntervalMs { get; set; } = 20;
    /// <summary>First wait before reconnecting to the leader after the stream broke; doubles up to <see cref="ReconnectDelayMaxMs"/>.</summary>
    public int ReconnectDelayMinMs { get; set; } = 100;
    /// <summary>Longest wait between reconnect attempts.</summary>
    public int ReconnectDelayMaxMs { get; set; } = 5_000;
    /// <summary>Largest message accepted from the leader (a Subscribe message of event blocks is about 1 MiB; a record at most Engine:JournalRecordBytesMax).</summary>
    public int MaxReceiveMessageBytes { get; set; } = 32 * 1024 * 1024;
    /// <summary>The API key this replica presents to its upstream (a principal with role <c>replica</c> there); empty = none. README "Access control".</summary>
    public string ApiKey { get; set; } = "";
    /// <summary>TLS towards an https:// upstream: the CA to trust and the client certificate to present.</summary>
    public Security.UpstreamTlsOptions Tls { get; set; } = new();

    public void Validate()
    {
        if (Name.Length > 64) throw new ArgumentException("Replica:Name must be at most 64 characters");
        if (CommitIntervalMs is < 1 or > 10_000) throw new ArgumentException("Replica:CommitIntervalMs must be 1..10,000");
        if (ReconnectDelayMinMs is < 1 or > 60_000) throw new ArgumentException("Replica:ReconnectDelayMinMs must be 1..60,000");
        if (ReconnectDelayMaxMs < ReconnectDelayMinMs || ReconnectDelayMaxMs > 600_000) throw new ArgumentException("Replica:ReconnectDelayMaxMs must be ReconnectDelayMinMs..600,000");
        if (MaxReceiveMessageBytes < 4 * 1024 * 1024) throw new ArgumentException("Replica:MaxReceiveMessageBytes must be >= 4 MiB");
        Engine.Client.ChannelSecurity.ValidateApiKey(ApiKey.Length > 0 ? ApiKey : null, "Replica:ApiKey");
        Tls.Validate();
    }
}
