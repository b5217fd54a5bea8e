using Engine.Domain;

namespace Engine.ReadModel;

/// <summary>One row of the collections worklist.</summary>
public sealed record DelinquentAccountView(string AccountId, string CustomerId, DelinquencyStage Stage, long PastDueMinor, int DaysPastDue, long DepositMinor);

/// <summary>A page of the worklist, largest past-due first; <see cref="NextPageToken"/> is null on the last page.</summary>
public sealed record DelinquentAccountPage(long Sequence, IReadOnlyList<DelinquentAccountView> Accounts, string? NextPageToken);

/// <summary>
/// The collections worklist, kept incrementally: accounts in a delinquency stage (WATCH or worse), per stage, ordered by
/// past-due amount (largest first) as of the account's last event. Updated in O(log n) per event on a lifecycle
/// account, so a page costs the same at 10 accounts and at 1M. Stage changes are events, so membership is exact; the
/// past-due amount used for ordering is the one at the account's last event (the stage-change event records it).
/// </summary>
internal sealed class DelinquencyIndex
{
    private readonly record struct Entry(long PastDueMinor, string AccountId);

    private sealed class LargestFirst : IComparer<Entry>
    {
        public int Compare(Entry x, Entry y)
        {
            int byAmount = y.PastDueMinor.CompareTo(x.PastDueMinor);
            return byAmount != 0 ? byAmount : string.CompareOrdinal(x.AccountId, y.AccountId);
        }
    }

    private static readonly LargestFirst Order = new();
    private readonly SortedSet<Entry>[] _byStage = [new(Order), new(Order), new(Order), new(Order)];
    private readonly Dictionary<string, (DelinquencyStage Stage, Entry Entry)> _current = new(StringComparer.Ordinal);

    public int Count => _current.Count;

    /// <summary>Records the account's state after an event (or at load).</summary>
    public void Observe(in Account account, long atUnixMs)
    {
        AccountLifecycle? lifecycle = account.Lifecycle;
        if (_current.Remove(account.Id, out var previous)) _byStage[(int)previous.Stage].Remove(previous.Entry);
        if (lifecycle is null || lifecycle.Stage == DelinquencyStage.Current) return;
        var entry = new Entry(lifecycle.PastDueMinor(EngineDays.DayOf(atUnixMs)), account.Id);
        _byStage[(int)lifecycle.Stage].Add(entry);
        _current[account.Id] = (lifecycle.Stage, entry);
    }

    /// <summary>Accounts in <paramref name="stage"/>, after the entry named by <paramref name="pageToken"/>.</summary>
    public List<string> Page(DelinquencyStage stage, string? pageToken, int pageSize, out string? nextPageToken)
    {
        SortedSet<Entry> set = _byStage[(int)stage];
        IEnumerable<Entry> from = set;
        if (!string.IsNullOrEmpty(pageToken))
        {
            (long amount, string id) = Decode(pageToken);
            var after = new Entry(amount, id);
            // A token past the end of a list that shrank since is the end, not an error.
            from = set.Count == 0 || Order.Compare(after, set.Max) >= 0 ? [] : set.GetViewBetween(after, set.Max).Where(e => Order.Compare(e, after) > 0);
        }
        var ids = new List<string>(pageSize);
        Entry last = default;
        bool more = false;
        foreach (Entry e in from)
        {
            if (ids.Count == pageSize) { more = true; break; }
            ids.Add(e.AccountId);
            last = e;
        }
        nextPageToken = more ? $"{last.PastDueMinor}:{last.AccountId}" : null;
        return ids;
    }

    private static (long, string) Decode(string token)
    {
        int colon = token.IndexOf(':');
        if (colon <= 0 || !long.TryParse(token.AsSpan(0, colon), out long amount)) throw new ArgumentException("page_token is not a token from a previous page", nameof(token));
        return (amount, token[(colon + 1)..]);
    }
}
