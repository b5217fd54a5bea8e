namespace Engine.Core;

/// <summary>
/// How far back request ids are answerable, as the decide thread last published it (at most every
/// <see cref="DecideHandler.WindowStatusIntervalMs"/> while commands flow, and at start-up).
/// </summary>
/// <param name="Entries">Request ids remembered, memory and spill store.</param>
/// <param name="SpilledEntries">Of those, in the spill store on disk.</param>
/// <param name="OldestTimestampUnixMs">Engine time of the oldest id still answerable (0 when none).</param>
/// <param name="AtUnixMs">Engine time of the publication.</param>
/// <param name="EvictedInsideWindow">Ids dropped while still inside the configured window since start (memory bound with spill off).</param>
/// <param name="ConfiguredMinAgeMs">Engine:Ledger:IdempotencyMinAgeMs.</param>
/// <param name="ConfiguredMinEntries">Engine:Ledger:IdempotencyMinEntries.</param>
/// <param name="SpillEnabled">Engine:IdempotencySpill.</param>
/// <param name="SpillDiskReads">Look-ups that read the spill store's disk since start.</param>
/// <param name="SpillNegativeDiskReads">Of those, look-ups of unknown ids (an index tag collision).</param>
public sealed record IdempotencyWindowStatus(
    long Entries,
    long SpilledEntries,
    long OldestTimestampUnixMs,
    long AtUnixMs,
    long EvictedInsideWindow,
    long ConfiguredMinAgeMs,
    long ConfiguredMinEntries,
    bool SpillEnabled,
    long SpillDiskReads,
    long SpillNegativeDiskReads)
{
    /// <summary>How long ago the oldest answerable id was recorded (0 when none).</summary>
    public long EffectiveWindowMs => OldestTimestampUnixMs == 0 ? 0 : Math.Max(0, AtUnixMs - OldestTimestampUnixMs);

    /// <summary>True when ids inside the configured window were forgotten since start: the window is shorter than configured.</summary>
    public bool BelowConfigured => EvictedInsideWindow > 0;
}
