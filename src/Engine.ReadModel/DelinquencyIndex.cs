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
    // Accounts with open dues by their oldest due's day: an aging bucket is a range of days at query time, exact
    // however long ago the account's last event was (an account ages without events).
    private readonly SortedSet<(int OldestDueDay, string AccountId)> _byOldestDue = new(Comparer<(int OldestDueDay, string AccountId)>.Create(
        static (x, y) => x.OldestDueDay != y.OldestDueDay ? x.OldestDueDay.CompareTo(y.OldestDueDay) : string.CompareOrdinal(x.AccountId, y.AccountId)));
    private readonly Dictionary<string, int> _oldestDue = new(StringComparer.Ordinal);

    public int Count => _current.Count;

    /// <summary>Records the account's state after an event (or at load).</summary>
    public void Observe(in Account account, long atUnixMs)
    {
        AccountLifecycle? lifecycle = account.Lifecycle;
        if (_oldestDue.Remove(account.Id, out int oldest)) _byOldestDue.Remove((oldest, account.Id));
        if (lifecycle is { Dues.Count: > 0 })
        {
            _byOldestDue.Add((lifecycle.Dues[0].DueDay, account.Id));
            _oldestDue[account.Id] = lifecycle.Dues[0].DueDay;
        }
        if (_current.Remove(account.Id, out var previous)) _byStage[(int)previous.Stage].Remove(previous.Entry);
        if (lifecycle is null || lifecycle.Stage == DelinquencyStage.Current) return;
        var entry = new Entry(lifecycle.PastDueMinor(EngineDays.DayOf(atUnixMs)), account.Id);
        _byStage[(int)lifecycle.Stage].Add(entry);
        _current[account.Id] = (lifecycle.Stage, entry);
    }

    /// <summary>
    /// Accounts whose days past due on <paramref name="today"/> fall in aging bucket <paramref name="bucket"/> (1–5 of
    /// <see cref="LifecycleView.BucketNames"/>): a range of the oldest-due index, O(log n + accounts in the bucket).
    /// </summary>
    public IEnumerable<string> InBucket(int bucket, int today)
    {
        (int lowDays, int highDays) = bucket switch
        {
            1 => (1, 30),
            2 => (31, 60),
            3 => (61, 90),
            4 => (91, 180),
            5 => (181, int.MaxValue / 2),
            _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "aging buckets of past-due accounts are 1..5"),
        };
        if (_byOldestDue.Count == 0) return [];
        // Ids are printable ASCII, so "" and U+FFFF bound every id of a day (ordinal order).
        var from = (Math.Max(today - highDays, int.MinValue / 2), "");
        var to = (today - lowDays, "\uffff");
        return _byOldestDue.GetViewBetween(from, to).Select(e => e.AccountId);
    }

    /// <summary>Orders <paramref name="rows"/> largest past-due first and returns the page after <paramref name="pageToken"/>.</summary>
    public static List<T> PageOf<T>(List<T> rows, Func<T, (long PastDueMinor, string AccountId)> key, string? pageToken, int pageSize, out string? nextPageToken)
    {
        rows.Sort((x, y) => Order.Compare(new Entry(key(x).PastDueMinor, key(x).AccountId), new Entry(key(y).PastDueMinor, key(y).AccountId)));
        int start = 0;
        if (!string.IsNullOrEmpty(pageToken))
        {
            (long amount, string id) = Decode(pageToken);
            var after = new Entry(amount, id);
            while (start < rows.Count && Order.Compare(new Entry(key(rows[start]).PastDueMinor, key(rows[start]).AccountId), after) <= 0) start++;
        }
        int count = Math.Min(pageSize, rows.Count - start);
        List<T> page = rows.GetRange(start, count);
        nextPageToken = start + count < rows.Count && count > 0 ? $"{key(page[^1]).PastDueMinor}:{key(page[^1]).AccountId}" : null;
        return page;
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
