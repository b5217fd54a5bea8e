namespace Engine.Journal;

/// <summary>
/// Settings of an <see cref="EventJournal"/>. Every limit is named and validated by <see cref="Validate"/>.
/// </summary>
public sealed class JournalOptions
{
    /// <summary>Directory holding the log segment files (<c>journal.log.N</c>) and the commit metadata file (<c>journal.commit</c>).</summary>
    public required string DirectoryPath { get; init; }

    /// <summary>log2 of the FASTER page size. A record never spans pages, so a page must hold the largest record. Default 22 (4 MiB).</summary>
    public int PageSizeBits { get; init; } = 22;

    /// <summary>log2 of FASTER's in-memory ring of pages. Must be at least two pages. Default 26 (64 MiB).</summary>
    public int MemorySizeBits { get; init; } = 26;

    /// <summary>log2 of the size of one segment file. Must be at least one page. Default 30 (1 GiB).</summary>
    public int SegmentSizeBits { get; init; } = 30;

    /// <summary>Largest payload one record may carry; <see cref="EventJournal.Append"/> throws <see cref="ArgumentException"/> beyond it. Default 1 MiB.</summary>
    public int RecordBytesMax { get; init; } = 1 << 20;

    /// <summary>
    /// BENCHMARK ONLY. When true, <see cref="EventJournal.Commit"/> starts the flush and returns without waiting for it
    /// to reach stable storage, so a crash can lose records the caller already acknowledged.
    /// <see cref="EventJournal.Open"/> logs a loud warning when this is on.
    /// </summary>
    public bool AcknowledgeBeforeFsync { get; init; }

    /// <summary>Test seam (<see cref="IStorageFaultInjector"/>): called before each commit is made durable. Null in production.</summary>
    public IStorageFaultInjector? FaultInjector { get; init; }

    internal const int PageSizeBitsMin = 12;
    internal const int PageSizeBitsMax = 30;
    internal const int SegmentSizeBitsMax = 40;

    internal long PageSizeBytes => 1L << PageSizeBits;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DirectoryPath))
            throw new ArgumentException("JournalOptions.DirectoryPath is required.", nameof(DirectoryPath));
        if (PageSizeBits < PageSizeBitsMin || PageSizeBits > PageSizeBitsMax)
            throw new ArgumentException($"JournalOptions.PageSizeBits is {PageSizeBits}; it must be in [{PageSizeBitsMin}, {PageSizeBitsMax}].", nameof(PageSizeBits));
        if (MemorySizeBits < PageSizeBits + 1 || MemorySizeBits > 40)
            throw new ArgumentException($"JournalOptions.MemorySizeBits is {MemorySizeBits}; it must hold at least two pages (>= PageSizeBits + 1 = {PageSizeBits + 1}) and be <= 40.", nameof(MemorySizeBits));
        if (SegmentSizeBits < PageSizeBits || SegmentSizeBits > SegmentSizeBitsMax)
            throw new ArgumentException($"JournalOptions.SegmentSizeBits is {SegmentSizeBits}; it must be in [PageSizeBits = {PageSizeBits}, {SegmentSizeBitsMax}].", nameof(SegmentSizeBits));
        long largestRecordOnPage = RecordFormat.PayloadBytesPerPageMax(PageSizeBytes);
        if (RecordBytesMax < 1 || RecordBytesMax > largestRecordOnPage)
            throw new ArgumentException($"JournalOptions.RecordBytesMax is {RecordBytesMax}; it must be in [1, {largestRecordOnPage}] so that a record fits on one {PageSizeBytes}-byte page.", nameof(RecordBytesMax));
    }
}
