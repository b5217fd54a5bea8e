namespace Engine.Bench.Peers;

/// <summary>
/// The authorization stream every system receives: request <c>n</c> is one (account, amount) pair computed from the
/// seed and <c>n</c> alone (a counter-based SplitMix64 generator). Whichever client draws index <c>n</c>, on whichever
/// system, sends the same authorization, so the systems see the same sequence and differ only in how far they get.
/// </summary>
internal sealed class AuthorizeWorkload
{
    public const long AmountMinMinor = 100;
    public const long AmountMaxMinor = 10_000;

    private readonly ulong _seed;
    private readonly string[] _accountIds;

    public AuthorizeWorkload(long seed, int accounts)
    {
        if (accounts < 1) throw new ArgumentOutOfRangeException(nameof(accounts));
        _seed = (ulong)seed;
        _accountIds = new string[accounts];
        for (int n = 0; n < accounts; n++) _accountIds[n] = AccountId(n);
    }

    /// <summary>Account ids, formatted once: the load generator shares the cores with the systems under test.</summary>
    public IReadOnlyList<string> AccountIds => _accountIds;
    public int Accounts => _accountIds.Length;

    public static string AccountId(int n) => $"acct-{n:D7}";

    /// <summary>The authorization with index <paramref name="requestIndex"/>: the account's index and the amount in minor units.</summary>
    public (int AccountIndex, long AmountMinor) At(long requestIndex)
    {
        ulong first = Mix(_seed ^ Mix((ulong)requestIndex + 1));
        ulong second = Mix(first);
        int account = (int)(first % (ulong)_accountIds.Length);
        long amount = AmountMinMinor + (long)(second % (ulong)(AmountMaxMinor - AmountMinMinor + 1));
        return (account, amount);
    }

    // SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijection on 64 bits with good avalanche, so neighbouring
    // indexes give unrelated pairs.
    private static ulong Mix(ulong value)
    {
        unchecked
        {
            ulong z = value + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
