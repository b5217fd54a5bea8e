namespace Engine.Server.ReadModel;

/// <summary>
/// A sparse map from event sequence to the journal address of the record holding it, so a subscriber can
/// start near its <c>from_sequence</c> instead of scanning the log from the beginning. One entry per
/// <c>stride</c> events (≈ 16 bytes per stride events: 16 MB per billion events at the default stride).
/// Written by the projector, read under the read model's lock.
/// </summary>
internal sealed class SequenceIndex(int stride)
{
    private readonly List<(long FirstSequence, long Address)> _entries = [];

    /// <summary>Records that the journal record at <paramref name="address"/> starts with <paramref name="firstSequence"/>.</summary>
    public void Observe(long firstSequence, long address)
    {
        if (_entries.Count > 0 && firstSequence < _entries[^1].FirstSequence + stride) return;
        _entries.Add((firstSequence, address));
    }

    /// <summary>The address of a record boundary at or before the record holding <paramref name="sequence"/>, or null when none is known.</summary>
    public long? AddressAtOrBefore(long sequence)
    {
        int low = 0, high = _entries.Count - 1, found = -1;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            if (_entries[middle].FirstSequence <= sequence) { found = middle; low = middle + 1; }
            else high = middle - 1;
        }
        return found < 0 ? null : _entries[found].Address;
    }
}
