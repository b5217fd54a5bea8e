namespace Engine.Domain;

/// <summary>
/// Indexed binary min-heap of open authorizations by (expiry, creation sequence). Each authorization
/// knows its position, so closing one removes it in O(log n): expiring is O(expired · log n), never a scan,
/// and no stale entries accumulate for holds that were captured or voided.
/// </summary>
public sealed class ExpiryHeap
{
    private Authorization[] _items = new Authorization[1024];
    private int _count;

    public int Count => _count;

    public Authorization? PeekMin() => _count == 0 ? null : _items[0];

    public void Add(Authorization authorization)
    {
        if (authorization.HeapIndex != -1) throw new InvalidOperationException($"authorization {authorization.Id} is already in the expiry heap");
        if (_count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        _items[_count] = authorization;
        authorization.HeapIndex = _count;
        _count++;
        SiftUp(_count - 1);
    }

    public void Remove(Authorization authorization)
    {
        int index = authorization.HeapIndex;
        if (index < 0 || index >= _count || !ReferenceEquals(_items[index], authorization))
            throw new InvalidOperationException($"authorization {authorization.Id} is not in the expiry heap");
        _count--;
        authorization.HeapIndex = -1;
        if (index == _count)
        {
            _items[_count] = null!;
            return;
        }
        Authorization last = _items[_count];
        _items[_count] = null!;
        _items[index] = last;
        last.HeapIndex = index;
        SiftDown(index);
        SiftUp(last.HeapIndex);
    }

    private static bool Before(Authorization a, Authorization b) =>
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

    private void SiftDown(int index)
    {
        while (true)
        {
            int left = 2 * index + 1;
            if (left >= _count) return;
            int smallest = left;
            int right = left + 1;
            if (right < _count && Before(_items[right], _items[left])) smallest = right;
            if (!Before(_items[smallest], _items[index])) return;
            Swap(index, smallest);
            index = smallest;
        }
    }

    private void Swap(int a, int b)
    {
        (_items[a], _items[b]) = (_items[b], _items[a]);
        _items[a].HeapIndex = a;
        _items[b].HeapIndex = b;
    }
}
