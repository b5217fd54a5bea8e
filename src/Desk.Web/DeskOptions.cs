namespace Desk.Web;

/// <summary>The desk's settings (section "Desk"); every default is here and in README's "Credit desk" section.</summary>
public sealed class DeskOptions
{
    /// <summary>The engine's gRPC address.</summary>
    public string EngineUrl { get; set; } = "http://127.0.0.1:5000";
    /// <summary>The desk's API key for an engine with access control (README "Access control"): a principal with account-admin and reader (and authorizer for the demo portfolio). Null = none.</summary>
    public string? EngineApiKey { get; set; }
    /// <summary>"Sqlite" (default) or "Postgres".</summary>
    public string Database { get; set; } = "Sqlite";
    /// <summary>Connection string; for SQLite the default is a file under <see cref="DataDirectory"/>.</summary>
    public string? ConnectionString { get; set; }
    public string DataDirectory { get; set; } = "desk-data";
    /// <summary>IANA or Windows time zone id for working hours and pages; default China Standard Time (UTC+8).</summary>
    public string TimeZone { get; set; } = "Asia/Shanghai";
    /// <summary>How often the write-back, deadline and scoring jobs look for work, milliseconds.</summary>
    public int JobIntervalMs { get; set; } = 2000;
    /// <summary>First retry delay of a failed write-back, doubling up to <see cref="WriteBackBackoffMaxMs"/>.</summary>
    public int WriteBackBackoffMs { get; set; } = 1000;
    public int WriteBackBackoffMaxMs { get; set; } = 60_000;
    /// <summary>Per engine call deadline, milliseconds.</summary>
    public int EngineDeadlineMs { get; set; } = 5000;
    /// <summary>Follow the engine's event stream into the desk's projection (limits, balances, volume).</summary>
    public bool FollowEngine { get; set; } = true;
    /// <summary>Fill an empty desk and engine with a demo portfolio (same as --demo).</summary>
    public bool Demo { get; set; }
    public int DemoCustomers { get; set; } = 300;
    /// <summary>Demo customers filled at once (each its own desk scope and engine calls).</summary>
    public int DemoConcurrency { get; set; } = 8;
    /// <summary>Purchases per demo customer are 1 to this many (an authorization and a capture each).</summary>
    public int DemoPurchasesMax { get; set; } = 5;
    /// <summary>Largest upload (attachments, import files), bytes.</summary>
    public long UploadBytesMax { get; set; } = 20 * 1024 * 1024;
    /// <summary>
    /// Test-only crash points ("before-engine-call", "after-engine-call"): the write-back kills its own process there
    /// (SIGKILL), so tests can show that a crash between approval and write-back neither loses nor doubles it.
    /// </summary>
    public string? FailPoint { get; set; }

    /// <summary>OpenID Connect sign-in (section Desk:Oidc); off unless Authority and ClientId are set.</summary>
    public OidcOptions Oidc { get; set; } = new();

    /// <summary>Delivery of the outbox (section Desk:Outbox).</summary>
    public OutboxOptions Outbox { get; set; } = new();
}

/// <summary>Webhook signing, SMTP server and retry policy of the outbox (README "Credit desk").</summary>
public sealed class OutboxOptions
{
    /// <summary>HMAC-SHA256 key of the X-Desk-Signature header; webhooks are not sent without one.</summary>
    public string? WebhookSecret { get; set; }
    /// <summary>Where reminder rules with channel Webhook post (e.g. a chat robot's webhook).</summary>
    public string? CollectionsWebhookUrl { get; set; }
    public string? SmtpHost { get; set; }
    public int SmtpPort { get; set; } = 25;
    public string SmtpFrom { get; set; } = "credit-desk@localhost";
    public bool SmtpSsl { get; set; }
    public string? SmtpUser { get; set; }
    public string? SmtpPassword { get; set; }
    public int BackoffMs { get; set; } = 5_000;
    public int BackoffMaxMs { get; set; } = 3_600_000;
    /// <summary>After this many failed attempts the message is Failed (visible, not retried).</summary>
    public int AttemptsMax { get; set; } = 10;
    public int TimeoutMs { get; set; } = 10_000;
}

/// <summary>Sign-in through an OpenID Connect provider instead of local passwords (README "Credit desk").</summary>
public sealed class OidcOptions
{
    public string? Authority { get; set; }
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    /// <summary>The claim (in the id token or user info) whose values name desk roles, directly or through <see cref="RoleMap"/>.</summary>
    public string RoleClaim { get; set; } = "roles";
    /// <summary>Provider value → comma-separated desk roles, e.g. "CreditFinance" → "finance". Values not listed are taken as desk role names.</summary>
    public Dictionary<string, string> RoleMap { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>The claim giving the desk user name (unique); the provider's "sub" when this claim is missing.</summary>
    public string NameClaim { get; set; } = "preferred_username";
    /// <summary>Optional claim whose values are approval titles (sales-director, finance-director, ceo).</summary>
    public string? TitleClaim { get; set; }
    /// <summary>HTTPS for the provider's metadata; only a loopback test provider may turn it off.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
    /// <summary>Keep the local password sign-in page usable beside OIDC (e.g. for the bootstrap admin).</summary>
    public bool LocalSignIn { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) && !string.IsNullOrWhiteSpace(ClientId);
}
