using System.Runtime.CompilerServices;

namespace Engine.Domain;

/// <summary>
/// A 128-bit key → non-negative long map by open addressing with linear probing over one array of 24-byte entries,
/// allocated once at <see cref="Create"/>. It replaces <c>Dictionary&lt;string, int&gt;</c> and
/// <c>Dictionary&lt;UInt128, …&gt;</c> on the decide thread: the key is an XxHash128 the producer already computed
/// (<see cref="Fingerprints.IdKey"/>), so the bucket is its low bits and a probe is one cache line, with no string
/// hashed or compared. Deletion shifts later entries of the run back (no tombstones), so probe lengths never degrade.
/// <para>
/// Sizing: capacity is a power of two keeping the load at most 3/4 of <c>expected</c>. Past that the table doubles
/// and rehashes every entry at once — a pause proportional to its size — so a sized deployment sets the
/// <c>Engine:Ledger:Expected*</c> hints and never grows on the hot path. Growth stops at the maximum given to <see cref="Create"/>:
/// <see cref="HasRoom"/> then turns false and the caller answers <see cref="Status.EngineCapacityExceeded"/>.
/// </para>
/// <para>
/// Two ids with the same 128-bit key would share an entry; at 10⁸ ids the odds are about 10⁻²³ (see
/// <see cref="Fingerprints"/>), so callers treat it as impossible and, where cheap, check the stored id on a hit.
/// Reads write nothing, so concurrent readers are safe while no one writes.
/// </para>
/// </summary>
public sealed class KeyTable
{
    /// <summary>Largest capacity (entries) a table may reach: 2³⁰ × 24 bytes = 24 GiB.</summary>
    public const long CapacityLimit = 1L << 30;
    private const int CapacityMin = 16;

    private struct Entry
    {
        public ulong Low;
        public ulong High;
        /// <summary>Value + 1; 0 marks an empty entry.</summary>
        public long ValuePlusOne;
    }

    private readonly long _capacityMax;
    private Entry[] _entries;
    private long _mask;
    private long _growAt;

    private KeyTable(long capacity, long capacityMax, bool residentNow)
    {
        _capacityMax = capacityMax;
        _entries = NewEntries(capacity, residentNow);
        _mask = capacity - 1;
        _growAt = capacity / 4 * 3;
    }

    /// <summary>
    /// A zeroed entry array, made resident now. The OS maps a fresh large array lazily, and a hash table touches it in
    /// random order, so without this every early insert would take a page fault (measured: opening 1M accounts took
    /// 2.4× as long); writing one word per page once costs well under a second per GB, at start-up or growth.
    /// On Linux the array is first advised into transparent huge pages (2 MiB): a probe into a table of hundreds of
    /// megabytes then misses the TLB far less often. The array is pinned (allocated on the pinned heap) so the advice
    /// stays with its memory.
    /// </summary>
    private static Entry[] NewEntries(long capacity, bool residentNow = true)
    {
        Entry[] entries = GC.AllocateArray<Entry>(checked((int)capacity), pinned: capacity >= HugePageEntriesMin);
        if (capacity >= HugePageEntriesMin && OperatingSystem.IsLinux()) AdviseHugePages(entries);
        if (!residentNow) return entries;
        const int entriesPerPage = 4096 / 24;
        for (long i = 0; i < capacity; i += entriesPerPage) entries[i].ValuePlusOne = 0;
        return entries;
    }

    // Below a few huge pages the advice buys nothing and the pinned heap is not worth using.
    private const long HugePageEntriesMin = 4 * HugePageBytes / 24;
    private const long HugePageBytes = 2 << 20;
    private const int MadviseHugePage = 14;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);

    private static void AdviseHugePages(Entry[] entries)
    {
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(entries, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            long start = handle.AddrOfPinnedObject();
            long end = start + entries.LongLength * System.Runtime.CompilerServices.Unsafe.SizeOf<Entry>();
            // madvise wants page-aligned bounds; the huge-page-aligned middle is what can become huge pages.
            long alignedStart = (start + HugePageBytes - 1) & ~(HugePageBytes - 1);
            long alignedEnd = end & ~(HugePageBytes - 1);
            // Advice only: a kernel without THP answers an error and the table works the same, with 4 KiB pages.
            if (alignedEnd > alignedStart) _ = Madvise((nint)alignedStart, (nuint)(alignedEnd - alignedStart), MadviseHugePage);
        }
        finally
        {
            handle.Free();
        }
    }

    /// <param name="expected">Entries expected at once (0: start small and grow).</param>
    /// <param name="entriesMax">Entries the table must be able to hold; <see cref="HasRoom"/> turns false past it.</param>
    /// <param name="residentNow">
    /// False: the caller makes the first entry array resident itself (<see cref="AddPrefaultRegions"/>, the ledger's
    /// background <see cref="PagePrefault"/>) instead of this thread writing a word per page now. Growth always does it now.
    /// </param>
    public static KeyTable Create(long expected, long entriesMax, bool residentNow = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expected);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(entriesMax);
        long capacityMax = Math.Min(CapacityLimit, CapacityFor(entriesMax));
        return new KeyTable(Math.Min(capacityMax, CapacityFor(Math.Min(expected, entriesMax))), capacityMax, residentNow);
    }

    /// <summary>The entry array, for <see cref="PagePrefault"/>.</summary>
    internal void AddPrefaultRegions(List<PagePrefault.Region> regions) => regions.Add(PagePrefault.Region.Of(_entries));

    /// <summary>The smallest power of two holding <paramref name="entries"/> at a load of at most 3/4.</summary>
    private static long CapacityFor(long entries)
    {
        long needed = Math.Max(CapacityMin, entries + entries / 3 + 1);
        return needed >= CapacityLimit ? CapacityLimit : (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)needed);
    }

    public long Count { get; private set; }
    /// <summary>Entries the table holds before it must grow (or refuse, at its maximum).</summary>
    public long Capacity => _entries.LongLength;
    /// <summary>How many times the table doubled (each one a full rehash); 0 when the hint was right.</summary>
    public int Growths { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(UInt128 key, out long value)
    {
        ulong low = (ulong)key, high = (ulong)(key >> 64);
        Entry[] entries = _entries;
        for (long i = (long)low & _mask; ; i = (i + 1) & _mask)
        {
            ref Entry entry = ref entries[i];
            if (entry.ValuePlusOne == 0) { value = -1; return false; }
            if (entry.Low == low && entry.High == high) { value = entry.ValuePlusOne - 1; return true; }
        }
    }

    public bool ContainsKey(UInt128 key) => TryGetValue(key, out _);

    /// <summary>
    /// Adds a new key; false when it is already present (nothing changes). Throws when the table is full: callers
    /// check <see cref="HasRoom"/> before deciding anything that adds a key, so a full table is refused, not hit.
    /// </summary>
    public bool TryAdd(UInt128 key, long value) => Insert(key, value, overwrite: false) == InsertResult.Added;

    /// <summary>Adds or overwrites (throws when the key is new and the table is full, as <see cref="TryAdd"/>).</summary>
    public void Set(UInt128 key, long value) => Insert(key, value, overwrite: true);

    /// <summary>True when one more key fits (growing if needed, but not past the maximum).</summary>
    public bool HasRoom => Count < _growAt || _entries.LongLength < _capacityMax;

    private enum InsertResult { Added, Present }

    private InsertResult Insert(UInt128 key, long value, bool overwrite)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        ulong low = (ulong)key, high = (ulong)(key >> 64);
        Entry[] entries = _entries;
        long i = (long)low & _mask;
        for (; ; i = (i + 1) & _mask)
        {
            ref Entry entry = ref entries[i];
            if (entry.ValuePlusOne == 0) break;
            if (entry.Low == low && entry.High == high)
            {
                if (!overwrite) return InsertResult.Present;
                entry.ValuePlusOne = value + 1;
                return InsertResult.Present;
            }
        }
        if (Count >= _growAt)
        {
            if (_entries.LongLength >= _capacityMax)
                throw new InvalidOperationException($"key table full at {Count} entries (capacity {_entries.LongLength}); check HasRoom before adding");
            Grow();
            return Insert(key, value, overwrite);
        }
        entries[i] = new Entry { Low = low, High = high, ValuePlusOne = value + 1 };
        Count++;
        return InsertResult.Added;
    }

    /// <summary>Removes the key; false when absent. Later entries of its probe run move back into the gap.</summary>
    public bool Remove(UInt128 key)
    {
        ulong low = (ulong)key, high = (ulong)(key >> 64);
        Entry[] entries = _entries;
        long hole = (long)low & _mask;
        for (; ; hole = (hole + 1) & _mask)
        {
            ref Entry entry = ref entries[hole];
            if (entry.ValuePlusOne == 0) return false;
            if (entry.Low == low && entry.High == high) break;
        }
        // Backward shift: an entry after the hole may fill it unless its home lies cyclically in (hole, here].
        for (long here = (hole + 1) & _mask; ; here = (here + 1) & _mask)
        {
            ref Entry candidate = ref entries[here];
            if (candidate.ValuePlusOne == 0) break;
            long home = (long)candidate.Low & _mask;
            bool homeInGap = hole <= here ? home > hole && home <= here : home > hole || home <= here;
            if (homeInGap) continue;
            entries[hole] = candidate;
            hole = here;
        }
        entries[hole] = default;
        Count--;
        return true;
    }

    /// <summary>Doubles the table and reinserts every entry: the documented pause of an undersized hint.</summary>
    private void Grow()
    {
        Entry[] old = _entries;
        long capacity = old.LongLength * 2;
        Entry[] entries = NewEntries(capacity);
        long mask = capacity - 1;
        foreach (ref readonly Entry entry in old.AsSpan())
        {
            if (entry.ValuePlusOne == 0) continue;
            long i = (long)entry.Low & mask;
            while (entries[i].ValuePlusOne != 0) i = (i + 1) & mask;
            entries[i] = entry;
        }
        _entries = entries;
        _mask = mask;
        _growAt = capacity / 4 * 3;
        Growths++;
    }
}
