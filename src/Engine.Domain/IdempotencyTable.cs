namespace Engine.Domain;

/// <summary>What the engine remembers of one request id: enough to recognise the payload and to answer again.</summary>
public struct IdempotencyRecord
{
    public ulong PayloadFingerprint;
    public long Sequence;
    public long TimestampUnixMs;
    public long AvailableMinor;
    public long HeldMinor;
    public long PostedMinor;
    public Status Status;

    public readonly Reply ToReply(bool replayed) => new()
    {
        Status = Status,
        AvailableMinor = AvailableMinor,
        HeldMinor = HeldMinor,
        PostedMinor = PostedMinor,
        Sequence = Sequence,
        Replayed = replayed,
    };
}

/// <summary>
/// Request id → (payload fingerprint, original reply), in insertion (= engine time) order so retention is a FIFO:
/// an entry leaves only when it is older than the minimum age AND more than the minimum number of newer entries
/// exist (docs/SPEC.md: "24 hours or 50 million, whichever is more"). Rebuilt by applying events, so recovery restores it.
/// <para>
/// Two tiers. The newest <see cref="LedgerOptions.IdempotencyMaxEntries"/> live in memory. Older ones still inside
/// the window go, oldest first, to an <see cref="IIdempotencySpillStore"/> on disk when the ledger has one (the
/// engine's default), so the window holds at any sustained rate the disk can take; without one (spill off, read
/// models) they are dropped and the window is shorter than configured, which <see cref="EvictedInsideWindow"/> counts.
/// The memory tier is a FIFO of fixed-size (key, record) entries in insertion order and a <see cref="KeyTable"/> from
/// key to FIFO position, sized from <see cref="LedgerOptions.ExpectedRequestIds"/>: a look-up is one probe of 24-byte
/// entries and one read of the record, and eviction reads the FIFO's head sequentially.
/// A look-up tries memory, then the spill store only if it holds anything: its in-memory hash index answers unknown
/// ids (the common case) without I/O; only a retry of a spilled id reads the disk.
/// </para>
/// <para>
/// The spill store is derived state. Spilled ids leave it in blocks of <see cref="SpillBlockEntries"/> (the log is in
/// insertion order, so forgetting is moving its begin), so up to one block more than the window is remembered.
/// Snapshots list every entry of both tiers oldest first (<see cref="InOrder"/>), the same bytes with or without a
/// spill store; restoring one refills memory and re-spills what exceeds the bound, and replaying the journal after it
/// re-inserts what came later. So the store needs no checkpoint of its own and does not depend on the journal still
/// holding the window: it starts empty on every start-up.
/// </para>
/// </summary>
public sealed class IdempotencyTable
{
    /// <summary>Spilled ids are forgotten this many at a time (one begin-address move of the spill log each).</summary>
    public const int SpillBlockEntries = 1024;
    /// <summary>
    /// Most request ids the in-memory tier holds whatever <see cref="LedgerOptions.IdempotencyMaxEntries"/> says (the
    /// index's <see cref="KeyTable.CapacityLimit"/> at 3/4 load): a larger setting behaves as this one.
    /// </summary>
    public const long MemoryEntriesLimit = KeyTable.CapacityLimit / 4 * 3 - EvictionsPerInsertMax;

    // Entries evicted per insertion at most: keeps each apply O(1) while a backlog drains.
    private const int EvictionsPerInsertMax = 4;

    private readonly LedgerOptions _options;
    private readonly IIdempotencySpillStore? _spill;
    // IdempotencyMaxEntries, capped at what the index can hold.
    private readonly long _memoryEntriesMax;
    // Key → position in _entries of its live record. Eviction keeps the count at most _memoryEntriesMax + 1, and
    // the table is sized for that, so it never refuses a key.
    private readonly KeyTable _index;
    // Keys with their records, oldest first. An entry whose key was recorded again later is stale: the index points
    // at the newer position.
    private readonly PositionalQueue<StoredRecord> _entries;
    // Stale entries in the FIFO (only when a log recorded under a smaller window is replayed under a larger one);
    // while 0, eviction needs no staleness check.
    private long _staleEntries;
    // Closed spill blocks, oldest first, and the one being filled; all spilled ids are older than every memory entry.
    private readonly ChunkedQueue<SpillBlock> _spillBlocks = new();
    private SpillBlock _openBlock;

    private struct StoredRecord
    {
        public UInt128 Key;
        public IdempotencyRecord Record;
    }

    private struct SpillBlock
    {
        public long EndAddress;
        public long OldestUnixMs;
        public long NewestUnixMs;
        public int Entries;
    }

    /// <param name="indexResidentNow">As <see cref="KeyTable.Create"/>'s residentNow, for the key index.</param>
    public IdempotencyTable(LedgerOptions options, IIdempotencySpillStore? spill = null, bool indexResidentNow = true)
    {
        _options = options;
        _spill = spill;
        _memoryEntriesMax = Math.Min(options.IdempotencyMaxEntries, MemoryEntriesLimit);
        // Eviction runs after each insert, so memory briefly holds one more than its bound.
        long indexEntriesMax = _memoryEntriesMax + EvictionsPerInsertMax;
        long expected = Math.Min(options.ExpectedRequestIds, indexEntriesMax);
        _index = KeyTable.Create(expected, indexEntriesMax, indexResidentNow);
        _entries = new PositionalQueue<StoredRecord>(expected);
    }

    /// <summary>The key index's entry array alone, for <see cref="PagePrefault"/>.</summary>
    internal void AddIndexPrefaultRegion(List<PagePrefault.Region> regions) => _index.AddPrefaultRegions(regions);

    /// <summary>The key index and the record FIFO's chunks allocated up front, for <see cref="PagePrefault"/>.</summary>
    internal void AddPrefaultRegions(List<PagePrefault.Region> regions)
    {
        _index.AddPrefaultRegions(regions);
        _entries.AddPrefaultRegions(regions);
    }

    /// <summary>Request ids remembered, both tiers.</summary>
    public long Count => _index.Count + SpilledCount;
    /// <summary>Request ids remembered in the spill store.</summary>
    public long SpilledCount { get; private set; }
    /// <summary>Request ids dropped while still inside the window (memory bound reached with no spill store), since start.</summary>
    public long EvictedInsideWindow { get; private set; }
    /// <summary>How often the in-memory index doubled (a full rehash each): 0 when ExpectedRequestIds was big enough.</summary>
    public int IndexGrowths => _index.Growths;

    /// <summary>Engine time of the oldest request id still answerable (0 when none): the start of the effective window.</summary>
    public long OldestTimestampUnixMs =>
        _spillBlocks.Count > 0 ? _spillBlocks.Peek().OldestUnixMs
        : _openBlock.Entries > 0 ? _openBlock.OldestUnixMs
        : _entries.Count > 0 ? _entries.Peek().Record.TimestampUnixMs
        : 0;

    public bool TryGet(UInt128 requestKey, out IdempotencyRecord record)
    {
        if (_index.TryGetValue(requestKey, out long position))
        {
            record = _entries.At(position).Record;
            return true;
        }
        // Memory is newer than the spill store, so a hit there wins; only a miss consults the store.
        if (SpilledCount > 0) return _spill!.TryRead(requestKey, out record);
        record = default;
        return false;
    }

    /// <summary>
    /// Records a new request id. <paramref name="fromLog"/>: the event comes from a log (recovery, read model) rather
    /// than from a decision just made. A log may carry a request id twice when the engine that wrote it had forgotten
    /// the first (its window was smaller than this ledger's): the newer record wins. Live, a known id never gets here.
    /// </summary>
    public void Add(UInt128 requestKey, in IdempotencyRecord record, bool fromLog)
    {
        Insert(requestKey, record, fromLog);
        Evict(record.TimestampUnixMs);
    }

    private void Insert(UInt128 requestKey, in IdempotencyRecord record, bool fromLog)
    {
        long position = _entries.Enqueue(new StoredRecord { Key = requestKey, Record = record });
        if (_index.TryAdd(requestKey, position)) return;
        if (!fromLog)
        {
            _entries.DropNewest();
            throw new LedgerInvariantException($"request key {requestKey:X32} recorded twice (sequence {record.Sequence})");
        }
        _index.Set(requestKey, position);
        _staleEntries++;
    }

    private void Evict(long nowUnixMs)
    {
        ForgetExpiredSpillBlock(nowUnixMs);
        for (int i = 0; i < EvictionsPerInsertMax && _entries.Count > 0; i++)
        {
            if (DequeueIfStale()) continue;
            ref readonly StoredRecord oldest = ref _entries.Peek();
            // The entry and every newer one are in memory: spilled ids are all older.
            bool beyondWindow = _index.Count > _options.IdempotencyMinEntries && nowUnixMs - oldest.Record.TimestampUnixMs > _options.IdempotencyMinAgeMs;
            if (!beyondWindow && _index.Count <= _memoryEntriesMax) return;
            StoredRecord evicted = oldest;
            _entries.Dequeue();
            _index.Remove(evicted.Key);
            if (beyondWindow) continue;
            if (_spill is not null) Spill(evicted.Key, evicted.Record);
            else EvictedInsideWindow++;
        }
    }

    /// <summary>Drops the FIFO's head if a newer record of its key exists; true when it did.</summary>
    private bool DequeueIfStale()
    {
        if (_staleEntries == 0) return false;
        if (IsLive(_entries.HeadPosition)) return false;
        _entries.Dequeue();
        _staleEntries--;
        return true;
    }

    private bool IsLive(long position) =>
        _index.TryGetValue(_entries.At(position).Key, out long live) && live == position;

    private void Spill(UInt128 requestKey, in IdempotencyRecord record)
    {
        _spill!.Write(requestKey, record);
        if (_openBlock.Entries == 0) _openBlock.OldestUnixMs = record.TimestampUnixMs;
        _openBlock.NewestUnixMs = record.TimestampUnixMs;
        _openBlock.Entries++;
        SpilledCount++;
        if (_openBlock.Entries < SpillBlockEntries) return;
        _openBlock.EndAddress = _spill.TailAddress;
        _spillBlocks.Enqueue(_openBlock);
        _openBlock = default;
    }

    /// <summary>Forgets the oldest closed spill block once even its newest id is beyond the window; one per insertion.</summary>
    private void ForgetExpiredSpillBlock(long nowUnixMs)
    {
        if (_spillBlocks.Count == 0) return;
        SpillBlock oldest = _spillBlocks.Peek();
        // Entries from the block's newest one onwards, itself included.
        long fromNewest = Count - oldest.Entries + 1;
        if (fromNewest <= _options.IdempotencyMinEntries || nowUnixMs - oldest.NewestUnixMs <= _options.IdempotencyMinAgeMs) return;
        _spillBlocks.Dequeue();
        SpilledCount -= oldest.Entries;
        _spill!.ForgetBefore(oldest.EndAddress);
    }

    /// <summary>Entries oldest first (snapshot order): the spilled ones, then memory.</summary>
    public IEnumerable<(UInt128 Key, IdempotencyRecord Record)> InOrder()
    {
        if (_spill is not null && SpilledCount > 0)
        {
            foreach ((UInt128 key, IdempotencyRecord record) in _spill.ReadAll())
            {
                // A key in memory was recorded again after it spilled (see Add): the memory record is the live one.
                if (!_index.ContainsKey(key)) yield return (key, record);
            }
        }
        for (long position = _entries.HeadPosition; position < _entries.TailPosition; position++)
        {
            if (_staleEntries == 0 || IsLive(position))
            {
                StoredRecord entry = _entries.At(position);
                yield return (entry.Key, entry.Record);
            }
        }
    }

    /// <summary>
    /// Restores one entry from a snapshot, oldest first, without evicting by the window. Beyond IdempotencyMaxEntries
    /// the oldest are spilled (or dropped without a spill store: a read model loading an engine's snapshot), as
    /// inserting them one by one would have. A key listed twice (see <see cref="Add"/>) keeps its later record.
    /// </summary>
    internal void Restore(UInt128 requestKey, in IdempotencyRecord record)
    {
        Insert(requestKey, record, fromLog: true);
        while (_index.Count > _memoryEntriesMax)
        {
            if (DequeueIfStale()) continue;
            StoredRecord oldest = _entries.Peek();
            _entries.Dequeue();
            _index.Remove(oldest.Key);
            if (_spill is not null) Spill(oldest.Key, oldest.Record);
            else EvictedInsideWindow++;
        }
    }
}
