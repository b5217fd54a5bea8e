namespace Engine.ReadModel;

/// <summary>
/// A sparse map from event sequence to the journal address of the record holding it, so a subscriber or a history
/// page can start near a sequence instead of scanning the log from the beginning. One entry per <c>stride</c>
/// events (16 bytes per stride events: 16 MB per billion events at the default stride); entries below the
/// retained part of the log are dropped with it. Written by the read model's single writer, read under its lock.
/// </summary>
internal sealed class SequenceIndex(int stride)
{
    private readonly List<(long FirstSequence, long Address)> _entries = [];
    private int _head;

    public int Count => _entries.Count - _head;

    /// <summary>Records that the journal record at <paramref name="address"/> starts with <paramref name="firstSequence"/>.</summary>
    public void Observe(long firstSequence, long address)
    {
        if (Count > 0 && firstSequence < _entries[^1].FirstSequence + stride) return;
        _entries.Add((firstSequence, address));
    }

    /// <summary>The address of a record boundary at or before the record holding <paramref name="sequence"/>, or null when none is known.</summary>
    public long? AddressAtOrBefore(long sequence)
    {
        int low = _head, high = _entries.Count - 1, found = -1;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            if (_entries[middle].FirstSequence <= sequence) { found = middle; low = middle + 1; }
            else high = middle - 1;
        }
        return found < 0 ? null : _entries[found].Address;
    }

    /// <summary>The entry <paramref name="fraction"/> of the way through the index (0..1), or null when empty.</summary>
    public (long FirstSequence, long Address)? EntryAtFraction(double fraction)
    {
        if (Count == 0) return null;
        int at = _head + Math.Clamp((int)(Count * fraction), 0, Count - 1);
        return _entries[at];
    }

    /// <summary>Forgets entries for records before <paramref name="address"/> (no longer in the log or the history).</summary>
    public void DropBefore(long address)
    {
        while (_head < _entries.Count && _entries[_head].Address < address) _head++;
        if (_head > 1024 && _head > _entries.Count / 2)
        {
            _entries.RemoveRange(0, _head);
            _head = 0;
        }
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(Count);
        for (int i = _head; i < _entries.Count; i++)
        {
            writer.Write(_entries[i].FirstSequence);
            writer.Write(_entries[i].Address);
        }
    }

    public void Read(BinaryReader reader)
    {
        _entries.Clear();
        _head = 0;
        int count = reader.ReadInt32();
        if (count < 0) throw new FormatException("read-model snapshot: negative sequence index count");
        for (int i = 0; i < count; i++) _entries.Add((reader.ReadInt64(), reader.ReadInt64()));
    }
}
