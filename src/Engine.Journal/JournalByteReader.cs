namespace Engine.Journal;

/// <summary>
/// Random access to committed journal bytes by address, for indexes that remember where an event sits (a read
/// model's per-account history) and read it back without scanning. Only bytes in
/// [<see cref="EventJournal.BeginAddress"/>, <see cref="EventJournal.CommittedUntilAddress"/>) are readable.
/// </summary>
/// <remarks>
/// Unlike <see cref="JournalReader"/> this does not verify a record's checksum: it reads a slice of a record that was
/// verified when it was first read or written. Callers check what they decode (an event's sequence and account)
/// against what their index says. Thread-safe: reads are positional (pread) and handle creation is locked. Once
/// disposed (its log is about to be deleted or replaced) every read returns 0, as for truncated bytes, so a query
/// that picked this reader up just before never touches a disposed log.
/// </remarks>
public sealed class JournalByteReader : IDisposable
{
    private readonly EventJournal _journal;
    private readonly SegmentFileReader _files;
    private readonly int _segmentSizeBits;
    private readonly Lock _lock = new();
    private bool _disposed; // guarded by _lock

    public JournalByteReader(EventJournal journal)
    {
        _journal = journal;
        _segmentSizeBits = journal.SegmentSizeBits;
        _files = new SegmentFileReader(journal.SegmentBasePath, journal.SegmentSizeBits);
    }

    /// <summary>Offset of a record's payload from the record's address (FASTER's length word plus our header).</summary>
    public const int PayloadOffset = RecordFormat.FasterLengthBytes + RecordFormat.HeaderBytes;

    /// <summary>
    /// Reads up to <paramref name="destination"/>.Length committed bytes at <paramref name="address"/>, stopping at the
    /// committed end and at the segment's end. Returns how many were read; 0 when the address is before the log's
    /// begin (truncated) or at/after the committed end.
    /// </summary>
    public int Read(long address, Span<byte> destination)
    {
        // SegmentFileReader caches one handle per segment in a dictionary: serialise access to it. The journal's
        // bounds are read under the same lock, after the disposed check: the journal may be disposed right after us.
        lock (_lock)
        {
            if (_disposed) return 0;
            long begin = _journal.BeginAddress;
            long committed = _journal.CommittedUntilAddress;
            if (address < begin || address >= committed) return 0;
            long segmentEnd = ((address >> _segmentSizeBits) + 1) << _segmentSizeBits;
            int length = (int)Math.Min(destination.Length, Math.Min(committed, segmentEnd) - address);
            return _files.Read(address, destination[..length]);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _files.Dispose();
        }
    }
}
