namespace Engine.ReadModel;

/// <summary>Limits of the read model (leader and read replica alike), bound from configuration section <c>ReadModel</c>.</summary>
public sealed class ReadModelOptions
{
    public const string SectionName = "ReadModel";

    /// <summary>
    /// Events whose place in the log the per-account history index remembers for ListEvents, over all accounts
    /// (8 bytes each in memory; the events stay on disk). Past it the oldest quarter is dropped.
    /// </summary>
    public long HistoryEventsMax { get; set; } = 50_000_000;
    /// <summary>Largest page of ListAuthorizations / ListEvents.</summary>
    public int PageSizeMax { get; set; } = 1000;
    /// <summary>
    /// Most events one ListEvents page reads from the log. A page filtered by event type over a long history stops
    /// there with fewer events and a resume point, so one call's work is bounded however rare the wanted events are.
    /// </summary>
    public int ScannedEventsPerPageMax { get; set; } = 10_000;
    /// <summary>Page size when the request says 0.</summary>
    public int PageSizeDefault { get; set; } = 100;
    /// <summary>The sequence → journal address index used to start subscribers and history pages keeps one entry per this many events.</summary>
    public int SequenceIndexStride { get; set; } = 1024;
    /// <summary>Longest a query waits for <c>min_sequence</c> when its deadline allows more (or it has none).</summary>
    public int MinSequenceWaitMaxMs { get; set; } = 30_000;
    /// <summary>The read model writes a snapshot of itself after this many events (and at shutdown), so a restart replays only what came after.</summary>
    public long SnapshotEveryEvents { get; set; } = 5_000_000;
    /// <summary>Read-model snapshots kept on disk.</summary>
    public int SnapshotsKept { get; set; } = 2;

    public void Validate()
    {
        if (HistoryEventsMax < 1000) throw new ArgumentException("ReadModel:HistoryEventsMax must be >= 1000");
        if (PageSizeMax is < 1 or > 10_000) throw new ArgumentException("ReadModel:PageSizeMax must be 1..10,000");
        if (ScannedEventsPerPageMax < PageSizeMax || ScannedEventsPerPageMax > 1_000_000)
            throw new ArgumentException("ReadModel:ScannedEventsPerPageMax must be PageSizeMax..1,000,000");
        if (PageSizeDefault < 1 || PageSizeDefault > PageSizeMax) throw new ArgumentException("ReadModel:PageSizeDefault must be 1..PageSizeMax");
        if (SequenceIndexStride < 1) throw new ArgumentException("ReadModel:SequenceIndexStride must be >= 1");
        if (MinSequenceWaitMaxMs < 0) throw new ArgumentException("ReadModel:MinSequenceWaitMaxMs must be >= 0");
        if (SnapshotEveryEvents < 1) throw new ArgumentException("ReadModel:SnapshotEveryEvents must be >= 1");
        if (SnapshotsKept is < 1 or > 100) throw new ArgumentException("ReadModel:SnapshotsKept must be 1..100");
    }
}
