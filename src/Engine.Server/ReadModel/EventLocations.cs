using System.Diagnostics;

namespace Engine.Server.ReadModel;

/// <summary>
/// Where one account's events sit in the journal, oldest first: each a packed <c>long</c> of the record's address
/// and the event's byte offset inside the record's payload (<see cref="Pack"/>). 8 bytes an event, so months of
/// history stay in memory as an index while the events themselves stay on disk. Appends at the back, drops at the
/// front (retention), finds a record address by binary search: addresses grow with sequences.
/// </summary>
internal sealed class EventLocations
{
    /// <summary>Bits of the payload offset: a record payload is at most 1 MiB (Engine:JournalRecordBytesMax).</summary>
    public const int OffsetBits = 20;
    private const long OffsetMask = (1L << OffsetBits) - 1;
    /// <summary>Largest record address that packs (2^43 bytes = 8 TiB of log).</summary>
    public const long AddressMax = (1L << (63 - OffsetBits)) - 1;

    private long[] _items = new long[2];
    private int _head;

    public int Count { get; private set; }

    public static long Pack(long recordAddress, int payloadOffset)
    {
        // Always-on: a location that does not round-trip would send ListEvents to the wrong bytes.
        if ((ulong)recordAddress > AddressMax || (uint)payloadOffset > OffsetMask)
            throw new InvalidOperationException($"event location (address {recordAddress}, offset {payloadOffset}) does not fit the history index");
        return (recordAddress << OffsetBits) | (long)payloadOffset;
    }

    public static long RecordAddressOf(long location) => location >>> OffsetBits;

    public static int PayloadOffsetOf(long location) => (int)(location & OffsetMask);

    public long this[int index] => _items[_head + index];

    public void Add(long location)
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
                var grown = new long[_items.Length * 2];
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
            if (RecordAddressOf(this[middle]) < recordAddress) low = middle + 1;
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
            var shrunk = new long[Math.Max(8, Count * 2)];
            Array.Copy(_items, _head, shrunk, 0, Count);
            _items = shrunk;
            _head = 0;
        }
        return dropped;
    }

    /// <summary>Copies locations [<paramref name="from"/>, from + count) into <paramref name="destination"/>.</summary>
    public void CopyTo(int from, int count, List<long> destination)
    {
        for (int i = 0; i < count; i++) destination.Add(_items[_head + from + i]);
    }
}
