using System.Runtime.CompilerServices;

namespace Engine.Domain;

/// <summary>
/// The ledger's authorizations: id key → slot (a <see cref="KeyTable"/>: the producer hashed the id), and the slots themselves as <see cref="AuthorizationRecord"/> structs in
/// fixed-size chunks with a free list. Growing adds a chunk and never copies (a doubling array of millions of
/// records would pause for a copy of hundreds of megabytes); a forgotten authorization's slot is reused.
/// <para>
/// Reads (<see cref="TryFind"/>, <see cref="At"/>, <see cref="CopyOf"/>, <see cref="Slots"/>) write nothing, so any
/// number of readers may run at once while no one writes (a read model's queries under its read lock). Keep it so:
/// no lazily built cache on a read path.
/// </para>
/// </summary>
internal sealed class AuthorizationStore
{
    private const int ChunkBits = 14;
    private const int ChunkSize = 1 << ChunkBits;
    private const int ChunkMask = ChunkSize - 1;
    /// <summary>Slots are int: at most 2³¹ − 1 authorizations at once, far above any sized deployment.</summary>
    private const int SlotCountMax = int.MaxValue;

    private readonly KeyTable _slotByKey;
    private AuthorizationRecord[][] _chunks = new AuthorizationRecord[16][];
    private int _slotsUsedHighWater;
    private int _freeHead = -1;

    /// <param name="expectedAuthorizations">Capacity hint (see <see cref="KeyTable"/>).</param>
    /// <param name="authorizationsMax">Authorizations held at once at most; <see cref="HasRoom"/> turns false there.</param>
    /// <param name="indexResidentNow">As <see cref="KeyTable.Create"/>'s residentNow, for the id index.</param>
    public AuthorizationStore(int expectedAuthorizations, int authorizationsMax, bool indexResidentNow = true)
    {
        int expected = Math.Min(expectedAuthorizations, authorizationsMax);
        _slotByKey = KeyTable.Create(expected, authorizationsMax, indexResidentNow);
        _countMax = authorizationsMax;
        // Slot chunks for the expected count up front: each is a large object, and allocating them while deciding
        // made every Authorize allocate ~110 bytes (measured in LedgerBenchmarks) and drove full collections.
        int chunks = (int)(((long)expected + ChunkSize - 1) >> ChunkBits);
        if (chunks > _chunks.Length) _chunks = new AuthorizationRecord[(int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)chunks)][];
        for (int i = 0; i < chunks; i++) _chunks[i] = new AuthorizationRecord[ChunkSize];
    }

    private readonly int _countMax;

    /// <summary>The id index's entry array alone, for <see cref="PagePrefault"/>.</summary>
    internal void AddIndexPrefaultRegion(List<PagePrefault.Region> regions) => _slotByKey.AddPrefaultRegions(regions);

    /// <summary>The id index and the slot chunks allocated up front, for <see cref="PagePrefault"/>.</summary>
    internal void AddPrefaultRegions(List<PagePrefault.Region> regions)
    {
        _slotByKey.AddPrefaultRegions(regions);
        // The record holds its long id's reference: touch a field that is never one.
        AuthorizationRecord sample = default;
        int createdSequence = PagePrefault.OffsetOf(ref sample, ref sample.CreatedSequence);
        foreach (AuthorizationRecord[]? chunk in _chunks)
            if (chunk is not null) regions.Add(PagePrefault.Region.Of(chunk, createdSequence));
    }

    public int Count => (int)_slotByKey.Count;
    /// <summary>How often the id index doubled (see <see cref="KeyTable.Growths"/>).</summary>
    public int IndexGrowths => _slotByKey.Growths;

    /// <summary>True when one more authorization fits (the configured maximum and the index's capacity).</summary>
    public bool HasRoom => Count < _countMax && _slotByKey.HasRoom;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref AuthorizationRecord At(int slot) => ref _chunks[slot >> ChunkBits][slot & ChunkMask];

    /// <summary>The slot of the authorization with key <paramref name="key"/> (<see cref="Fingerprints.IdKey"/> of its id).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryFind(UInt128 key, out int slot)
    {
        if (key != UInt128.Zero && _slotByKey.TryGetValue(key, out long found))
        {
            slot = (int)found;
            return true;
        }
        slot = -1;
        return false;
    }

    /// <summary>Look-up by id (read side): hashes the id, and checks the stored id so a key collision cannot go unnoticed.</summary>
    public bool TryFind(string id, out int slot)
    {
        if (!TryFind(Fingerprints.IdKey(id), out slot)) return false;
        if (!At(slot).IdEquals(id)) throw new LedgerInvariantException($"authorization ids '{id}' and '{At(slot).Id}' have the same 128-bit key");
        return true;
    }

    public bool Contains(UInt128 key) => TryFind(key, out _);

    /// <summary>Stores a new authorization (its id must be unknown) and returns its slot.</summary>
    public int Add(in AuthorizationRecord record)
    {
        if (!record.HasId) throw new ArgumentException("an authorization needs an id", nameof(record));
        int slot = _freeHead >= 0 ? _freeHead : NewSlot();
        ref AuthorizationRecord stored = ref At(slot);
        if (_freeHead == slot) _freeHead = stored.NextFreeSlot;
        if (!_slotByKey.TryAdd(record.Key, slot))
        {
            // Give the slot back before failing so the store stays consistent for the invariant report.
            stored.NextFreeSlot = _freeHead;
            _freeHead = slot;
            throw new LedgerInvariantException($"authorization {record.Id} recorded twice");
        }
        stored = record;
        stored.HeapIndex = -1;
        stored.NextFreeSlot = -1;
        return slot;
    }

    /// <summary>Forgets the authorization in <paramref name="slot"/> and frees the slot for reuse.</summary>
    public void Remove(int slot)
    {
        ref AuthorizationRecord record = ref At(slot);
        if (!record.HasId || record.HeapIndex != -1) throw new InvalidOperationException($"slot {slot} is free or still in the expiry heap");
        _slotByKey.Remove(record.Key);
        record = default;
        record.HeapIndex = -1;
        record.NextFreeSlot = _freeHead;
        _freeHead = slot;
    }

    /// <summary>A copy of the authorization in <paramref name="slot"/> as it is now; writes nothing to the store.</summary>
    public Authorization CopyOf(int slot) => new(in At(slot));

    /// <summary>Slots of every known authorization, in slot order (not a deterministic order across ledgers).</summary>
    public IEnumerable<int> Slots
    {
        get
        {
            for (int slot = 0; slot < _slotsUsedHighWater; slot++)
            {
                if (At(slot).HasId) yield return slot;
            }
        }
    }

    private int NewSlot()
    {
        if (_slotsUsedHighWater == SlotCountMax) throw new LedgerInvariantException("authorization slots exhausted");
        int slot = _slotsUsedHighWater++;
        int chunk = slot >> ChunkBits;
        if (chunk == _chunks.Length) Array.Resize(ref _chunks, _chunks.Length * 2);
        _chunks[chunk] ??= new AuthorizationRecord[ChunkSize];
        return slot;
    }
}
