namespace Engine.Domain;

/// <summary>
/// The timer index of the credit lifecycle: each lifecycle account's next date of interest (next statement, next
/// reminder, next threshold crossing), ordered by time then account index so ties resolve the same way everywhere.
/// Entries are invalidated lazily: an entry whose time is not the account's <see cref="AccountLifecycle.NextAtUnixMs"/>
/// any more is skipped when it reaches the top. A tick touches only what is due: no scan of accounts.
/// </summary>
internal sealed class LifecycleTimers
{
    private readonly PriorityQueue<int, (long At, int Index)> _heap = new();

    public int Count => _heap.Count;

    public void Add(long at, int accountIndex) => _heap.Enqueue(accountIndex, (at, accountIndex));

    public bool TryPeek(out long at, out int accountIndex)
    {
        if (_heap.TryPeek(out accountIndex, out (long At, int Index) priority))
        {
            at = priority.At;
            return true;
        }
        at = 0;
        return false;
    }

    public void Pop() => _heap.Dequeue();
}
