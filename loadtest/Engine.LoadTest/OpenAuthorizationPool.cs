namespace Engine.LoadTest;

/// <summary>
/// Authorizations this run got approved and has not captured or voided yet: what capture and void act on.
/// Bounded: when full, a new authorization replaces a random one (which then stays open until the engine expires it).
/// Not thread-safe; <see cref="Workload"/> guards it.
/// </summary>
public sealed class OpenAuthorizationPool(int capacity)
{
    private readonly string[] _ids = new string[capacity];
    private readonly long[] _amounts = new long[capacity];

    public int Count { get; private set; }
    public int Capacity => _ids.Length;

    public void Add(string authorizationId, long amountMinor, Random random)
    {
        if (Count < _ids.Length)
        {
            _ids[Count] = authorizationId;
            _amounts[Count] = amountMinor;
            Count++;
            return;
        }
        int replaced = random.Next(_ids.Length);
        _ids[replaced] = authorizationId;
        _amounts[replaced] = amountMinor;
    }

    /// <summary>Removes and returns a random open authorization; false when there is none.</summary>
    public bool TryTake(Random random, out string authorizationId, out long amountMinor)
    {
        if (Count == 0)
        {
            authorizationId = "";
            amountMinor = 0;
            return false;
        }
        int index = random.Next(Count);
        authorizationId = _ids[index];
        amountMinor = _amounts[index];
        Count--;
        _ids[index] = _ids[Count];
        _amounts[index] = _amounts[Count];
        _ids[Count] = null!;
        return true;
    }
}
