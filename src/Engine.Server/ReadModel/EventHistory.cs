using Engine.Domain;

namespace Engine.Server.ReadModel;

/// <summary>
/// One account's most recent events, oldest first: a growable ring (deque) capped at a maximum count.
/// Appends at the back, drops at the front, finds a sequence by binary search. Owned by the projector;
/// read under the read model's lock.
/// </summary>
internal sealed class EventHistory(int countMax)
{
    private LedgerEvent[] _events = new LedgerEvent[Math.Min(4, countMax)];
    private int _head;

    public int Count { get; private set; }

    public long OldestSequence => Count == 0 ? 0 : At(0).Sequence;

    public ref readonly LedgerEvent At(int index) => ref _events[(_head + index) % _events.Length];

    /// <summary>Appends; drops the oldest when full. Events arrive in sequence order.</summary>
    public void Append(in LedgerEvent ledgerEvent)
    {
        System.Diagnostics.Debug.Assert(Count == 0 || At(Count - 1).Sequence < ledgerEvent.Sequence, "events arrive in sequence order");
        if (Count == countMax) RemoveFirst();
        if (Count == _events.Length) Grow();
        _events[(_head + Count) % _events.Length] = ledgerEvent;
        Count++;
    }

    public void RemoveFirst()
    {
        if (Count == 0) return;
        _events[_head] = default; // release the strings
        _head = (_head + 1) % _events.Length;
        Count--;
    }

    /// <summary>Index of the first event with sequence >= <paramref name="sequence"/> (Count when none).</summary>
    public int IndexOfFirstAtOrAfter(long sequence)
    {
        int low = 0, high = Count;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (At(middle).Sequence < sequence) low = middle + 1;
            else high = middle;
        }
        return low;
    }

    private void Grow()
    {
        var larger = new LedgerEvent[Math.Min(countMax, _events.Length * 2)];
        for (int i = 0; i < Count; i++) larger[i] = At(i);
        _events = larger;
        _head = 0;
    }
}
