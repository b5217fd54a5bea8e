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
/// Request id → (payload fingerprint, original reply), in insertion (= engine time) order so retention
/// is a FIFO: an entry leaves only when it is older than the minimum age AND more than the minimum
/// number of newer entries exist (SPEC.md: "24 hours or 50 million, whichever is more"), or when the
/// hard memory bound is reached. Rebuilt by applying events, so recovery restores it exactly.
/// </summary>
public sealed class IdempotencyTable(LedgerOptions options)
{
    // Entries evicted per insertion at most: keeps each apply O(1) while a backlog drains.
    private const int EvictionsPerInsertMax = 4;

    private readonly Dictionary<UInt128, IdempotencyRecord> _records = new(options.ExpectedRequestIds);
    // Keys with their engine time, oldest first: the eviction check reads this sequentially instead of
    // looking the oldest record up in the dictionary (a cache miss per insert).
    private readonly ChunkedQueue<(UInt128 Key, long TimestampUnixMs)> _order = new();

    public int Count => _records.Count;

    public bool TryGet(UInt128 requestKey, out IdempotencyRecord record) => _records.TryGetValue(requestKey, out record);

    public bool Contains(UInt128 requestKey) => _records.ContainsKey(requestKey);

    public void Add(UInt128 requestKey, in IdempotencyRecord record)
    {
        if (!_records.TryAdd(requestKey, record))
            throw new LedgerInvariantException($"request key {requestKey:X32} recorded twice (sequence {record.Sequence})");
        _order.Enqueue((requestKey, record.TimestampUnixMs));
        Evict(record.TimestampUnixMs);
    }

    private void Evict(long nowUnixMs)
    {
        for (int i = 0; i < EvictionsPerInsertMax && _order.Count > 0; i++)
        {
            long count = _order.Count;
            (UInt128 oldestKey, long oldestUnixMs) = _order.Peek();
            bool beyondWindow = count > options.IdempotencyMinEntries && nowUnixMs - oldestUnixMs > options.IdempotencyMinAgeMs;
            bool beyondMemoryBound = count > options.IdempotencyMaxEntries;
            if (!beyondWindow && !beyondMemoryBound) return;
            _order.Dequeue();
            _records.Remove(oldestKey);
        }
    }

    /// <summary>Entries oldest first (snapshot order).</summary>
    public IEnumerable<(UInt128 Key, IdempotencyRecord Record)> InOrder()
    {
        foreach ((UInt128 key, _) in _order.Items) yield return (key, _records[key]);
    }

    /// <summary>
    /// After a restore: drops the oldest entries beyond IdempotencyMaxEntries, as inserting them one by one would
    /// have. A no-op for the engine's own snapshots; it matters when a ledger with a smaller bound (a read model)
    /// loads an engine's snapshot.
    /// </summary>
    internal void TrimToMemoryBound()
    {
        while (_order.Count > options.IdempotencyMaxEntries)
        {
            (UInt128 oldestKey, _) = _order.Dequeue();
            _records.Remove(oldestKey);
        }
    }

    /// <summary>Restores one entry from a snapshot, oldest first, without evicting.</summary>
    internal void Restore(UInt128 requestKey, in IdempotencyRecord record)
    {
        _records.Add(requestKey, record);
        _order.Enqueue((requestKey, record.TimestampUnixMs));
    }
}
