using System.Runtime.CompilerServices;

namespace Engine.Domain;

/// <summary>
/// The ledger's authorizations: id → slot, and the slots themselves as <see cref="AuthorizationRecord"/> structs in
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

    private readonly Dictionary<string, int> _slotById;
    private AuthorizationRecord[][] _chunks = new AuthorizationRecord[16][];
    private int _slotsUsedHighWater;
    private int _freeHead = -1;

    public AuthorizationStore(int expectedAuthorizations) =>
        _slotById = new Dictionary<string, int>(expectedAuthorizations, StringComparer.Ordinal);

    public int Count => _slotById.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref AuthorizationRecord At(int slot) => ref _chunks[slot >> ChunkBits][slot & ChunkMask];

    public bool TryFind(string id, out int slot) => _slotById.TryGetValue(id, out slot);

    public bool Contains(string id) => _slotById.ContainsKey(id);

    /// <summary>Stores a new authorization (its id must be unknown) and returns its slot.</summary>
    public int Add(in AuthorizationRecord record)
    {
        string id = record.Id ?? throw new ArgumentException("an authorization needs an id", nameof(record));
        int slot = _freeHead >= 0 ? _freeHead : NewSlot();
        ref AuthorizationRecord stored = ref At(slot);
        if (_freeHead == slot) _freeHead = stored.NextFreeSlot;
        if (!_slotById.TryAdd(id, slot))
        {
            // Give the slot back before failing so the store stays consistent for the invariant report.
            stored.NextFreeSlot = _freeHead;
            _freeHead = slot;
            throw new LedgerInvariantException($"authorization {id} recorded twice");
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
        if (record.Id is null || record.HeapIndex != -1) throw new InvalidOperationException($"slot {slot} is free or still in the expiry heap");
        _slotById.Remove(record.Id);
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
                if (At(slot).Id is not null) yield return slot;
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
