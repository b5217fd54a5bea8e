using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Engine.ReadModel;

/// <summary>
/// Where one account's events sit in the journal, oldest first (<see cref="EventLocation"/>, 12 bytes an event), so
/// months of history stay in memory as an index while the events themselves stay on disk. Appends at the back, drops
/// at the front (retention), finds a record address by binary search: addresses grow with sequences.
/// </summary>
internal sealed class EventLocations
{
    /// <summary>Bytes of memory an event costs in the index (the array may hold up to twice that while it grows).</summary>
    public static readonly int BytesPerEvent = Marshal.SizeOf<EventLocation>();

    private EventLocation[] _items = new EventLocation[2];
    private int _head;

    public int Count { get; private set; }

    public EventLocation this[int index] => _items[_head + index];

    public void Add(EventLocation location)
    {
        Debug.Assert(Count == 0 || location > this[Count - 1], "locations arrive in log order");
        if (_head + Count == _items.Length)
        {
            if (_head > 0 && Count <= _items.Length / 2)
            {
                Array.Copy(_items, _head, _items, 0, Count); // reuse the space dropped at the front
            }
            else
            {
                var grown = new EventLocation[_items.Length * 2];
                Array.Copy(_items, _head, grown, 0, Count);
                _items = grown;
            }
            _head = 0;
        }
        _items[_head + Count] = location;
        Count++;
    }

    /// <summary>Index of the first location whose record address is >= <paramref name="recordAddress"/> (Count when none).</summary>
    public int FirstAtOrAfter(long recordAddress)
    {
        int low = 0, high = Count;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (this[middle].RecordAddress < recordAddress) low = middle + 1;
            else high = middle;
        }
        return low;
    }

    /// <summary>Index of the first location after <paramref name="location"/> (Count when none).</summary>
    public int FirstAfter(EventLocation location)
    {
        int low = 0, high = Count;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (this[middle] <= location) low = middle + 1;
            else high = middle;
        }
        return low;
    }

    /// <summary>Drops every location in a record before <paramref name="recordAddress"/>; returns how many.</summary>
    public int DropBefore(long recordAddress)
    {
        int dropped = FirstAtOrAfter(recordAddress);
        _head += dropped;
        Count -= dropped;
        if (Count == 0) _head = 0;
        if (Count > 0 && Count < _items.Length / 4 && _items.Length > 8)
        {
            var shrunk = new EventLocation[Math.Max(8, Count * 2)];
            Array.Copy(_items, _head, shrunk, 0, Count);
            _items = shrunk;
            _head = 0;
        }
        return dropped;
    }

    /// <summary>Copies locations [<paramref name="from"/>, from + count) into <paramref name="destination"/>.</summary>
    public void CopyTo(int from, int count, List<EventLocation> destination)
    {
        for (int i = 0; i < count; i++) destination.Add(_items[_head + from + i]);
    }
}
