namespace Engine.Core;

/// <summary>What holds journal retention back, as of the last retention pass (ReplicationService.GetStatus reports it).</summary>
public static class RetentionHolder
{
    /// <summary>Recovery: the oldest kept snapshot's journal address (always an upper bound).</summary>
    public const string Snapshot = "snapshot";
    /// <summary><see cref="RetentionOptions.EventAgeMinMs"/>: events younger than the floor.</summary>
    public const string AgeFloor = "age_floor";
    /// <summary><see cref="EngineOptions.JournalRetainBytesMin"/>.</summary>
    public const string RetainBytesMin = "retain_bytes_min";
    /// <summary>A named consumer cursor; the holder is written <c>cursor:&lt;name&gt;</c>.</summary>
    public const string CursorPrefix = "cursor:";
    /// <summary>The disk budget forced truncation inside what the floor or cursors wanted kept.</summary>
    public const string DiskBudget = "disk_budget";
    /// <summary>Retention is off (<see cref="EngineOptions.TruncateJournal"/> false) or has not run yet.</summary>
    public const string None = "none";
}

/// <summary>One cursor's lag as measured by the last retention pass.</summary>
/// <param name="Name">The cursor.</param>
/// <param name="LagMs">Now minus the engine timestamp of its oldest unacknowledged event (0 when it has acknowledged everything).</param>
/// <param name="LagBytes">Journal bytes from the record holding its oldest unacknowledged event to the committed end.</param>
public sealed record CursorLag(string Name, long LagMs, long LagBytes);

/// <summary>The outcome of the last retention pass. Immutable; <see cref="CreditEngine.RetentionStatus"/> hands out the newest.</summary>
public sealed record RetentionStatus
{
    /// <summary>Whether retention runs at all (<see cref="EngineOptions.TruncateJournal"/>).</summary>
    public bool Enabled { get; init; }
    /// <summary>What decided the journal's begin in the last pass: a <see cref="RetentionHolder"/> value.</summary>
    public string HeldBy { get; init; } = RetentionHolder.None;
    /// <summary>The journal's begin address after the last pass.</summary>
    public long BeginAddress { get; init; }
    /// <summary>Committed end minus begin after the last pass: the log bytes retained (whole segments on disk may add up to one segment).</summary>
    public long RetainedBytes { get; init; }
    /// <summary>The oldest retained event's sequence (0 when the journal is empty).</summary>
    public long OldestSequence { get; init; }
    /// <summary>The oldest retained event's engine timestamp (0 when the journal is empty).</summary>
    public long OldestTimestampUnixMs { get; init; }
    /// <summary>The effective disk budget in bytes (configured, or computed at start).</summary>
    public long DiskBudgetBytes { get; init; }
    /// <summary>The configured age floor.</summary>
    public long EventAgeMinMs { get; init; }
    /// <summary>True when the last pass truncated inside the age floor or a cursor because of the disk budget.</summary>
    public bool BudgetOverrodeFloor { get; init; }
    /// <summary>Passes since start in which the budget overrode the floor or a cursor.</summary>
    public long BudgetOverrides { get; init; }
    /// <summary>The last warning retention logged (empty when none since start).</summary>
    public string LastWarning { get; init; } = "";
    /// <summary>Engine wall-clock time of the last pass, Unix ms (0 before the first).</summary>
    public long EvaluatedAtUnixMs { get; init; }
    /// <summary>Each live cursor's lag as of that pass.</summary>
    public IReadOnlyList<CursorLag> CursorLags { get; init; } = [];
}
