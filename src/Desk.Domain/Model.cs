namespace Desk.Domain;

// The desk's records. Plain classes, stored by Desk.Web through EF Core; the rules below work on them without I/O.
// Balances are never stored here as truth: the engine owns money. The *Minor fields on Customer are a projection
// of engine events kept only so that lists and segments can filter and sum without calling the engine per row.

public enum LifecycleStage { Lead, Prospect, DueDiligence, InApproval, Active, Repaying, Settled }

public enum CustomerType { Enterprise, Sme, Individual, Government }

public sealed class Customer
{
    public long Id { get; set; }
    public string Uscc { get; set; } = "";
    public string LegalName { get; set; } = "";
    public string? TaxId { get; set; }
    public string? RegisteredAddress { get; set; }
    public string? ContactName { get; set; }
    public string? ContactPhone { get; set; }
    public string? ContactEmail { get; set; }
    public string? Industry { get; set; }
    public long RegisteredCapitalMinor { get; set; }
    public string? Source { get; set; }
    public string? Region { get; set; }
    /// <summary>The owning salesperson (a user name); sales staff see only the customers they own.</summary>
    public string? OwnerUserName { get; set; }
    public LifecycleStage Stage { get; set; } = LifecycleStage.Lead;
    public CustomerType Type { get; set; } = CustomerType.Enterprise;
    public string Currency { get; set; } = "CNY";
    /// <summary>Year the relationship started, for the scoring factor "years of cooperation".</summary>
    public int? CooperationSinceYear { get; set; }
    /// <summary>External credit rating (e.g. a bureau's AAA..C); visible to finance, risk and manager only.</summary>
    public string? ExternalRating { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    // Latest score (denormalised from CustomerScore so that lists and segments filter on it).
    public int? Score { get; set; }
    public string? Grade { get; set; }

    // Projection of the engine (see the class comment): totals over the customer's accounts, with the sequence applied.
    public long LimitMinor { get; set; }
    public long PostedMinor { get; set; }
    public long HeldMinor { get; set; }
    public long Volume12mMinor { get; set; }
    public int LatePayments12m { get; set; }
    public int DpdDays { get; set; }
    /// <summary>posted+held as a percentage of limit, 0 when there is no limit.</summary>
    public int UtilisationPct { get; set; }
    /// <summary>Sum of the accounts' open dues (projected from the engine's lifecycle events).</summary>
    public long ReceivablesMinor { get; set; }
    /// <summary>Sum of the accounts' past-due amounts as of the projection's engine day.</summary>
    public long PastDueMinor { get; set; }
    /// <summary>Engine day of the oldest open due over the accounts (DPD = engine today − this, when past); null without dues.</summary>
    public int? OldestDueDay { get; set; }

    public List<CustomerTag> Tags { get; set; } = [];
    public List<EngineAccount> Accounts { get; set; } = [];
}

public sealed class Tag
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    /// <summary>A CSS colour, #rrggbb.</summary>
    public string Color { get; set; } = "#888888";
}

public sealed class CustomerTag
{
    public long CustomerId { get; set; }
    public long TagId { get; set; }
    public Tag? Tag { get; set; }
}

public sealed class EngineAccount
{
    public long Id { get; set; }
    public long CustomerId { get; set; }
    public string AccountId { get; set; } = "";
    public string Currency { get; set; } = "CNY";
    public string OpenRequestId { get; set; } = "";
    /// <summary>The engine sequence of the ACCOUNT_OPENED event; 0 until the engine has answered.</summary>
    public long OpenedSequence { get; set; }
    public long InitialLimitMinor { get; set; }
    /// <summary>Payment terms in days (net N): set at opening and by an approved payment-terms application, and followed from the engine's BILLING_TERMS_SET.</summary>
    public int TermsDays { get; set; } = 30;
    public DateTimeOffset OpenedAt { get; set; }

    // Projection of the engine's events for this account (never the truth; pages read live balances from the engine).
    public long LimitMinor { get; set; }
    public long PostedMinor { get; set; }
    public long HeldMinor { get; set; }
    public long VolumeMinor { get; set; }
    /// <summary>The last engine sequence applied to the fields above; older events are skipped.</summary>
    public long ProjectedSequence { get; set; }

    // The credit lifecycle as projected from the engine's events (docs/LIFECYCLE.md); dues are rows of AccountDue.
    /// <summary>"NONE", "TERMS" or "STATEMENT".</summary>
    public string BillingMode { get; set; } = "NONE";
    /// <summary>DelinquencyStages value.</summary>
    public string DelinquencyStage { get; set; } = DelinquencyStages.Current;
    /// <summary>Frozen with Freeze (lifted only by Unfreeze); the delinquency freeze follows from the stage.</summary>
    public bool FrozenManually { get; set; }
    public long DepositMinor { get; set; }
    public long ReceivablesMinor { get; set; }
    public long PastDueMinor { get; set; }
    public int? OldestDueDay { get; set; }
    /// <summary>Engine time of the last event applied, Unix ms.</summary>
    public long LastEventAtUnixMs { get; set; }
}

public enum PartyKind { Guarantor, Affiliate }

public sealed class RelatedParty
{
    public long Id { get; set; }
    public long CustomerId { get; set; }
    public PartyKind Kind { get; set; }
    public string Name { get; set; } = "";
    public string? Uscc { get; set; }
    public string? Note { get; set; }
}

public sealed class Attachment
{
    public long Id { get; set; }
    public long CustomerId { get; set; }
    public long? ApplicationId { get; set; }
    public string FileName { get; set; } = "";
    public string ContentType { get; set; } = "application/octet-stream";
    /// <summary>SHA-256 of the content, lower-case hex: shown on the customer, checked on download.</summary>
    public string Sha256 { get; set; } = "";
    public long SizeBytes { get; set; }
    public byte[] Content { get; set; } = [];
    public string UploadedBy { get; set; } = "";
    public DateTimeOffset UploadedAt { get; set; }
}

public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    /// <summary>User name, "api:{client}", or "system:{job}" for rules and background jobs.</summary>
    public string Actor { get; set; } = "";
    public string EntityType { get; set; } = "";
    public string EntityId { get; set; } = "";
    public string Action { get; set; } = "";
    /// <summary>JSON of the changed fields before, null on creation.</summary>
    public string? Before { get; set; }
    /// <summary>JSON of the changed fields after, null on deletion.</summary>
    public string? After { get; set; }
}

public sealed class DeskUser
{
    public long Id { get; set; }
    public string UserName { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    /// <summary>Comma-separated roles from <see cref="Roles"/>.</summary>
    public string Roles { get; set; } = "";
    /// <summary>Comma-separated positions that approval steps can name, e.g. "sales-director,finance-director,ceo".</summary>
    public string Titles { get; set; } = "";
    public bool MustChangePassword { get; set; }
    public bool Active { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Page language chosen by the user ("zh-CN" or "en"); null: follow the browser (Chinese for zh, else English).</summary>
    public string? Language { get; set; }
    /// <summary>"local" (password) or "oidc" (created at the first OpenID Connect sign-in; has no password).</summary>
    public string Source { get; set; } = "local";

    public IReadOnlyList<string> RoleList => Split(Roles);
    public IReadOnlyList<string> TitleList => Split(Titles);

    private static string[] Split(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

public sealed class ApiClient
{
    public long Id { get; set; }
    public string Name { get; set; } = "";
    /// <summary>SHA-256 of the key, hex; the key itself is shown once when the client is created.</summary>
    public string KeyHash { get; set; } = "";
    public string Roles { get; set; } = "";
    public bool Active { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A key/value row for the desk's own state (the engine event position, bootstrap done, ...).</summary>
public sealed class DeskSetting
{
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";
}
