namespace Engine.Server.ReadModel;

/// <summary>Limits of the embedded read model, bound from configuration section <c>ReadModel</c>.</summary>
public sealed class ReadModelOptions
{
    public const string SectionName = "ReadModel";

    /// <summary>Events kept per account for ListEvents; older ones are dropped first.</summary>
    public int AccountEventsMax { get; set; } = 256;
    /// <summary>Events kept for ListEvents over all accounts together (~200 bytes each); the oldest are dropped first.</summary>
    public int EventHistoryMax { get; set; } = 1_000_000;
    /// <summary>Largest page of ListAuthorizations / ListEvents.</summary>
    public int PageSizeMax { get; set; } = 1000;
    /// <summary>Page size when the request says 0.</summary>
    public int PageSizeDefault { get; set; } = 100;
    /// <summary>The sequence → journal address index used to start subscribers keeps one entry per this many events.</summary>
    public int SequenceIndexStride { get; set; } = 1024;
    /// <summary>Longest a query waits for <c>min_sequence</c> when its deadline allows more (or it has none).</summary>
    public int MinSequenceWaitMaxMs { get; set; } = 30_000;

    public void Validate()
    {
        if (AccountEventsMax < 1) throw new ArgumentException("ReadModel:AccountEventsMax must be >= 1");
        if (EventHistoryMax < AccountEventsMax) throw new ArgumentException("ReadModel:EventHistoryMax must be >= ReadModel:AccountEventsMax");
        if (PageSizeMax is < 1 or > 10_000) throw new ArgumentException("ReadModel:PageSizeMax must be 1..10,000");
        if (PageSizeDefault < 1 || PageSizeDefault > PageSizeMax) throw new ArgumentException("ReadModel:PageSizeDefault must be 1..PageSizeMax");
        if (SequenceIndexStride < 1) throw new ArgumentException("ReadModel:SequenceIndexStride must be >= 1");
        if (MinSequenceWaitMaxMs < 0) throw new ArgumentException("ReadModel:MinSequenceWaitMaxMs must be >= 0");
    }
}
