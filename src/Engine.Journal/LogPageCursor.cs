using System.Buffers;

namespace Engine.Journal;

/// <summary>
/// One log page's bytes, loaded lazily from the segment files up to a caller-given end (never beyond the committed
/// end, so uncommitted or in-flight bytes are never cached), plus the forward scan for a valid record that tells a
/// torn tail from damage in the middle of the log. Records never span pages, so one page is the unit of work.
/// </summary>
internal sealed class LogPageCursor : IDisposable
{
    private static ReadOnlySpan<byte> MagicBytes => [0x4A, 0x52, 0x4E, 0x4C]; // RecordFormat.Magic, little-endian

    private readonly SegmentFileReader _files;
    private readonly int _pageSizeBits;
    private byte[]? _buffer;
    private long _page = -1;
    private int _loadedFrom;
    private int _loadedUntil;

    public LogPageCursor(string segmentBasePath, int segmentSizeBits, int pageSizeBits)
    {
        _files = new SegmentFileReader(segmentBasePath, segmentSizeBits);
        _pageSizeBits = pageSizeBits;
        PageSize = 1 << pageSizeBits;
        _buffer = ArrayPool<byte>.Shared.Rent(PageSize);
    }

    public int PageSize { get; }

    /// <summary>The loaded page; only offsets in [loadedFrom, the value <see cref="Load"/> returned) hold log bytes.</summary>
    public ReadOnlySpan<byte> Page => Buffer.AsSpan(0, PageSize);

    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(LogPageCursor));

    public long PageOf(long address) => address >> _pageSizeBits;

    public long PageStart(long page) => page << _pageSizeBits;

    /// <summary>
    /// Makes bytes [<paramref name="fromOffset"/>, <paramref name="untilOffset"/>) of <paramref name="page"/> available
    /// as far as the segment file has them. Returns the end of the readable bytes (at most <paramref name="untilOffset"/>).
    /// </summary>
    public int Load(long page, int fromOffset, int untilOffset)
    {
        if (page != _page || fromOffset < _loadedFrom)
        {
            _page = page;
            _loadedFrom = fromOffset;
            _loadedUntil = fromOffset;
        }
        if (untilOffset > _loadedUntil)
        {
            int read = _files.Read(PageStart(page) + _loadedUntil, Buffer.AsSpan(_loadedUntil, untilOffset - _loadedUntil));
            _loadedUntil += read;
        }
        return Math.Min(_loadedUntil, untilOffset);
    }

    /// <summary>Forgets the loaded bytes (the next <see cref="Load"/> reads again).</summary>
    public void Invalidate() => _page = -1;

    /// <summary>
    /// The first address in [<paramref name="fromAddress"/>, <paramref name="limitAddress"/>) at which a record (or filler
    /// record) starts that verifies completely (length, magic, version, checksum), or -1. Mini fillers carry no
    /// checksum and do not count. Bounded: one pass over the range, using a
    /// vectorised search for the magic so garbage is skipped quickly.
    /// </summary>
    public long FindValidRecord(long fromAddress, long limitAddress)
    {
        long address = (fromAddress + (RecordFormat.EntryAlignmentBytes - 1)) & ~(long)(RecordFormat.EntryAlignmentBytes - 1);
        while (address < limitAddress)
        {
            long page = PageOf(address);
            long pageStart = PageStart(page);
            int offset = (int)(address - pageStart);
            int end = (int)Math.Min(PageSize, limitAddress - pageStart);
            Invalidate();
            int readable = Load(page, offset, end);
            ReadOnlySpan<byte> bytes = Page;

            int searchFrom = offset + RecordFormat.FasterLengthBytes;
            while (searchFrom + MagicBytes.Length <= readable)
            {
                int found = bytes[searchFrom..readable].IndexOf(MagicBytes);
                if (found < 0) break;
                int magicAt = searchFrom + found;
                int candidate = magicAt - RecordFormat.FasterLengthBytes;
                if (candidate % RecordFormat.EntryAlignmentBytes == 0
                    && RecordFormat.Parse(bytes, candidate, readable, PageSize, out _, out _, out _, out _) != EntryKind.Bad)
                {
                    Invalidate();
                    return pageStart + candidate;
                }
                searchFrom = magicAt + 1;
            }
            address = pageStart + PageSize;
        }
        Invalidate();
        return -1;
    }

    public void Dispose()
    {
        _files.Dispose();
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
