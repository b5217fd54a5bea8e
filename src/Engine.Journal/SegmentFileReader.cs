using Microsoft.Win32.SafeHandles;

namespace Engine.Journal;

/// <summary>
/// Reads log bytes by address straight from FASTER's segment files (<c>journal.log.N</c>, segment N holding
/// addresses [N &lt;&lt; SegmentSizeBits, (N+1) &lt;&lt; SegmentSizeBits) at the same offsets), through the OS page cache.
/// FASTER writes with O_SYNC and no O_DIRECT on Linux, so what a commit made durable is what these reads see.
/// Reporting a short count instead of failing is deliberate: bytes that cannot be read are "unreadable", which the
/// reader then treats like any other bad record.
/// </summary>
internal sealed class SegmentFileReader : IDisposable
{
    private readonly string _segmentBasePath;
    private readonly int _segmentSizeBits;
    private readonly Dictionary<long, SafeFileHandle> _handles = [];

    public SegmentFileReader(string segmentBasePath, int segmentSizeBits)
    {
        _segmentBasePath = segmentBasePath;
        _segmentSizeBits = segmentSizeBits;
    }

    public static string SegmentPath(string segmentBasePath, long segment) => $"{segmentBasePath}.{segment}";

    /// <summary>
    /// Reads up to <paramref name="destination"/>.Length bytes starting at log <paramref name="address"/>, which must
    /// not cross a segment boundary. Returns how many bytes were read: fewer when the file ends early or is missing.
    /// </summary>
    public int Read(long address, Span<byte> destination)
    {
        long segment = address >> _segmentSizeBits;
        long offset = address & ((1L << _segmentSizeBits) - 1);
        if (offset + destination.Length > 1L << _segmentSizeBits)
            throw new ArgumentOutOfRangeException(nameof(destination), "a read must not cross a segment boundary");

        SafeFileHandle? handle = GetHandle(segment);
        if (handle is null) return 0;

        int total = 0;
        while (total < destination.Length)
        {
            int read = RandomAccess.Read(handle, destination[total..], offset + total);
            if (read == 0) break;
            total += read;
        }
        return total;
    }

    private SafeFileHandle? GetHandle(long segment)
    {
        if (_handles.TryGetValue(segment, out SafeFileHandle? handle)) return handle;
        try
        {
            // Never create: a missing segment means unreadable bytes, not an empty file to invent.
            handle = File.OpenHandle(SegmentPath(_segmentBasePath, segment), FileMode.Open, FileAccess.Read,
                FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return null; // not cached: retried next time
        }
        // Readers move forward: handles of earlier segments are not needed again, and an open handle would keep a
        // segment that retention deleted occupying disk space.
        CloseHandlesBelow(segment);
        _handles[segment] = handle;
        return handle;
    }

    private void CloseHandlesBelow(long segment)
    {
        if (_handles.Count == 0) return;
        foreach (long open in _handles.Keys.Where(open => open < segment).ToList())
        {
            _handles[open].Dispose();
            _handles.Remove(open);
        }
    }

    public void Dispose()
    {
        foreach (SafeFileHandle handle in _handles.Values) handle.Dispose();
        _handles.Clear();
    }
}
