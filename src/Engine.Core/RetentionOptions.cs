namespace Engine.Core;

/// <summary>
/// What journal retention (<see cref="EngineOptions.TruncateJournal"/>) must keep beyond what recovery needs: events
/// younger than an age floor and events named durable consumers have not acknowledged yet, all bounded by a disk
/// budget. Bound from configuration section <c>Engine:Retention</c>; README "Journal retention" documents each.
/// Recovery's need (the oldest kept snapshot) is always an upper bound: nothing here makes the engine truncate more
/// than that, only less — except the disk budget, which may override the floor and cursors, never the snapshot.
/// </summary>
public sealed class RetentionOptions
{
    public const long DayMs = 24L * 3600 * 1000;
    /// <summary>Most cursors one engine keeps (each is a name and a position; dropped ones count until deleted).</summary>
    public const int CursorsMaxLimit = 10_000;

    /// <summary>Never truncate events whose engine timestamp is younger than this (0 = no age floor). Default 7 days.</summary>
    public long EventAgeMinMs { get; set; } = 7 * DayMs;

    /// <summary>
    /// Most bytes of journal (address span from the begin to the committed end) retention lets the age floor and the
    /// cursors hold. 0 = automatic: the journal's size at start plus half the free space of the data volume at start.
    /// Whole segment files are deleted, so up to one segment more can be on disk.
    /// </summary>
    public long DiskBudgetBytes { get; set; }

    /// <summary>Most named durable consumer cursors (Subscribe with <c>durable_cursor</c>); registering more is refused.</summary>
    public int CursorsMax { get; set; } = 64;

    /// <summary>A cursor whose oldest unacknowledged event is older than this is dropped (0 = no age bound). Default 7 days.</summary>
    public long CursorLagMaxMs { get; set; } = 7 * DayMs;

    /// <summary>A cursor whose unacknowledged events span more journal bytes than this is dropped (0 = no byte bound; the disk budget still applies).</summary>
    public long CursorLagBytesMax { get; set; }

    /// <summary>How often retention re-evaluates on its own (the age floor moves with time, cursors with acknowledgements); it also runs after every snapshot.</summary>
    public int CheckIntervalMs { get; set; } = 60_000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (EventAgeMinMs < 0) throw new ArgumentException("Engine:Retention:EventAgeMinMs must be >= 0", nameof(EventAgeMinMs));
        if (DiskBudgetBytes < 0) throw new ArgumentException("Engine:Retention:DiskBudgetBytes must be >= 0 (0 = automatic)", nameof(DiskBudgetBytes));
        if (CursorsMax is < 0 or > CursorsMaxLimit) throw new ArgumentException($"Engine:Retention:CursorsMax must be 0..{CursorsMaxLimit}", nameof(CursorsMax));
        if (CursorLagMaxMs < 0) throw new ArgumentException("Engine:Retention:CursorLagMaxMs must be >= 0", nameof(CursorLagMaxMs));
        if (CursorLagBytesMax < 0) throw new ArgumentException("Engine:Retention:CursorLagBytesMax must be >= 0", nameof(CursorLagBytesMax));
        if (CheckIntervalMs is < 100 or > 3_600_000) throw new ArgumentException("Engine:Retention:CheckIntervalMs must be 100..3,600,000", nameof(CheckIntervalMs));
    }
}
