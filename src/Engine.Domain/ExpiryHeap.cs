namespace Engine.Domain;

/// <summary>
/// Indexed binary min-heap of open authorizations by (expiry, creation sequence). Each authorization record
/// knows its position, so closing one removes it in O(log n): expiring is O(expired · log n), never a scan,
/// and no stale entries accumulate for holds that were captured or voided. Entries carry their sort key next
/// to the slot, so comparisons read the heap array only; the record is touched to update its position.
/// The array is allocated once for <paramref name="expected"/> open authorizations (the <c>ExpectedAuthorizations</c>
/// hint, like the store's slots), so a sized engine never doubles it on the decide thread: a doubling copies the whole
/// heap inside one command (192 MB at 8M open holds) and allocates a large object.
/// </summary>
internal sealed class ExpiryHeap(AuthorizationStore store, int expected)
{
    private struct Entry
    {
        public long ExpiresAtUnixMs;
        public long CreatedSequence;
        public int Slot;
    }

    private Entry[] _items = new Entry[Math.Max(1024, expected)];

    /// <summary>The entry array sized from the hint, for <see cref="PagePrefault"/>.</summary>
    internal void AddPrefaultRegions(List<PagePrefault.Region> regions) => regions.Add(PagePrefault.Region.Of(_items));
    private int _count;

    public int Count => _count;

    /// <summary>The slot of the authorization that expires first.</summary>
    public bool TryPeekMin(out int slot)
    {
        slot = _count == 0 ? -1 : _items[0].Slot;
        return _count != 0;
    }

    public void Add(int slot)
    {
        ref AuthorizationRecord record = ref store.At(slot);
        if (record.HeapIndex != -1) throw new InvalidOperationException($"authorization {record.Id} is already in the expiry heap");
        if (_count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        _items[_count] = new Entry { ExpiresAtUnixMs = record.ExpiresAtUnixMs, CreatedSequence = record.CreatedSequence, Slot = slot };
        record.HeapIndex = _count;
        _count++;
        SiftUp(_count - 1);
    }

    public void Remove(int slot)
    {
        ref AuthorizationRecord record = ref store.At(slot);
        int index = record.HeapIndex;
        if (index < 0 || index >= _count || _items[index].Slot != slot)
            throw new InvalidOperationException($"authorization {record.Id} is not in the expiry heap");
        _count--;
        record.HeapIndex = -1;
        if (index == _count) return;
        _items[index] = _items[_count];
        store.At(_items[index].Slot).HeapIndex = index;
        int settled = SiftDown(index);
        SiftUp(settled);
    }

    private static bool Before(in Entry a, in Entry b) =>
        a.ExpiresAtUnixMs < b.ExpiresAtUnixMs || (a.ExpiresAtUnixMs == b.ExpiresAtUnixMs && a.CreatedSequence < b.CreatedSequence);

    private void SiftUp(int index)
    {
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            if (!Before(_items[index], _items[parent])) return;
            Swap(index, parent);
            index = parent;
        }
    }

    /// <returns>Where the entry came to rest.</returns>
    private int SiftDown(int index)
    {
        while (true)
        {
            int left = 2 * index + 1;
            if (left >= _count) return index;
            int smallest = left;
            int right = left + 1;
            if (right < _count && Before(_items[right], _items[left])) smallest = right;
            if (!Before(_items[smallest], _items[index])) return index;
            Swap(index, smallest);
            index = smallest;
        }
    }

    private void Swap(int a, int b)
    {
        (_items[a], _items[b]) = (_items[b], _items[a]);
        store.At(_items[a].Slot).HeapIndex = a;
        store.At(_items[b].Slot).HeapIndex = b;
    }
}
