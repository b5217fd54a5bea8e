using Engine.Domain;

namespace Engine.ReadModel;

/// <summary>One calendar month (UTC) of flows: repayments, and dues that fell past due unpaid.</summary>
public sealed record PortfolioMonth(int Year, int Month, long RepaidMinor, long NewPastDueMinor);

/// <summary>
/// Dues across the whole portfolio by due day, kept as events apply, so aging and monthly flows are answered at query
/// time from at most a few thousand day entries, never from a scan of the accounts (docs/LIFECYCLE.md "GetPortfolio").
/// <para>
/// <b>Open dues by day</b> is state: it is rebuilt from the accounts when a snapshot loads. Aging buckets and the
/// past-due total are then exact at the time of the query (a due ages without an event).
/// </para>
/// <para>
/// <b>Flows</b> depend on history, so read-model snapshots carry them: repayments (REPAID amounts) by the month of
/// the event, and the amount of each due still unpaid when it fell past due (what was created, less what was paid
/// or shrank on or before its due day; late payments do not lower it), by the month of the day after its due day.
/// </para>
/// </summary>
internal sealed class PortfolioFlows
{
    public const int MonthsShown = 24;
    private const uint SectionMagic = 0x31504D52; // "RMP1"

    private readonly SortedDictionary<int, Int128> _openByDueDay = [];
    private readonly SortedDictionary<int, Int128> _unpaidWhenDueByDay = [];
    private readonly SortedDictionary<int, Int128> _repaidByMonth = [];
    // The dues of the account being applied, captured before the event (day → open amount).
    private readonly Dictionary<int, long> _before = [];

    /// <summary>Adds (+1) or removes (−1) an account's open dues; removing also remembers them for <see cref="Flow"/>.</summary>
    public void Add(in Account account, int sign)
    {
        if (sign < 0) _before.Clear();
        if (account.Lifecycle is not { } lifecycle) return;
        foreach (Due due in lifecycle.Dues)
        {
            AddTo(_openByDueDay, due.DueDay, sign * (Int128)due.OpenMinor);
            if (sign < 0) _before[due.DueDay] = due.OpenMinor;
        }
    }

    /// <summary>Records the flows of an applied event: <paramref name="after"/> is its account after it (default when none).</summary>
    public void Flow(in LedgerEvent e, in Account after, bool hadBefore)
    {
        if (!hadBefore) _before.Clear();
        if (e.Type == EventType.Repaid) AddTo(_repaidByMonth, MonthOf(EngineDays.DayOf(e.TimestampUnixMs)), e.AmountMinor);
        int today = EngineDays.DayOf(e.TimestampUnixMs);
        if (after.Lifecycle is { } lifecycle)
        {
            foreach (Due due in lifecycle.Dues)
            {
                long before = _before.Remove(due.DueDay, out long open) ? open : 0;
                Change(due.DueDay, due.OpenMinor - before, today);
            }
        }
        // Dues gone from the account (paid in full or shrunk away).
        foreach ((int day, long open) in _before) Change(day, -open, today);
        _before.Clear();
    }

    private void Change(int dueDay, long delta, int today)
    {
        // New or larger dues count whenever they appear; payments and shrinks only until the due day ends.
        if (delta > 0 || delta < 0 && today <= dueDay) AddTo(_unpaidWhenDueByDay, dueDay, delta);
    }

    /// <summary>Open dues by aging bucket (<see cref="LifecycleView.BucketNames"/>) on <paramref name="today"/>.</summary>
    public long[] Aging(int today)
    {
        var buckets = new Int128[LifecycleView.BucketNames.Length];
        foreach ((int day, Int128 open) in _openByDueDay) buckets[LifecycleView.BucketOf(today - day)] += open;
        return Array.ConvertAll(buckets, Clamp);
    }

    /// <summary>The last <see cref="MonthsShown"/> months up to the month of <paramref name="today"/>, oldest first.</summary>
    public IReadOnlyList<PortfolioMonth> Months(int today)
    {
        int last = MonthOf(today), first = last - MonthsShown + 1;
        var repaid = new Int128[MonthsShown];
        var fell = new Int128[MonthsShown];
        foreach ((int month, Int128 amount) in _repaidByMonth)
            if (month >= first && month <= last) repaid[month - first] += amount;
        foreach ((int dueDay, Int128 amount) in _unpaidWhenDueByDay)
        {
            // Past due from the day after the due day; a due still in its day has not fallen due yet.
            if (dueDay >= today) break;
            int month = MonthOf(dueDay + 1);
            if (month >= first) fell[month - first] += amount;
        }
        var months = new List<PortfolioMonth>(MonthsShown);
        for (int i = 0; i < MonthsShown; i++)
            months.Add(new PortfolioMonth((first + i) / 12, (first + i) % 12 + 1, Clamp(repaid[i]), Clamp(fell[i])));
        return months;
    }

    /// <summary>Writes the flows (the history-dependent part) as a read-model snapshot section.</summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(SectionMagic);
        WriteMap(writer, _unpaidWhenDueByDay);
        WriteMap(writer, _repaidByMonth);
        writer.Write(SectionMagic);
    }

    /// <summary>Reads the section <see cref="Write"/> wrote; false when the snapshot ends before it (written before flows existed).</summary>
    public bool TryRead(Stream stream)
    {
        Span<byte> magic = stackalloc byte[4];
        int read = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (read == 0) return false;
        if (read < 4 || BitConverter.ToUInt32(magic) != SectionMagic) throw new FormatException("read-model snapshot: unknown section after the history index");
        using var reader = new BinaryReader(stream, System.Text.Encoding.ASCII, leaveOpen: true);
        ReadMap(reader, _unpaidWhenDueByDay);
        ReadMap(reader, _repaidByMonth);
        if (reader.ReadUInt32() != SectionMagic) throw new FormatException("read-model snapshot: portfolio flows section has no end marker (truncated?)");
        return true;
    }

    /// <summary>Takes the flows of <paramref name="other"/> (a snapshot just read) into this fresh instance.</summary>
    public void TakeFlowsFrom(PortfolioFlows other)
    {
        foreach ((int key, Int128 value) in other._unpaidWhenDueByDay) _unpaidWhenDueByDay[key] = value;
        foreach ((int key, Int128 value) in other._repaidByMonth) _repaidByMonth[key] = value;
    }

    private static void WriteMap(BinaryWriter writer, SortedDictionary<int, Int128> map)
    {
        writer.Write(map.Count);
        foreach ((int key, Int128 value) in map)
        {
            writer.Write(key);
            writer.Write((ulong)(value >> 64));
            writer.Write((ulong)value);
        }
    }

    private static void ReadMap(BinaryReader reader, SortedDictionary<int, Int128> map)
    {
        int count = reader.ReadInt32();
        if (count < 0) throw new FormatException("read-model snapshot: negative entry count in the portfolio flows");
        for (int i = 0; i < count; i++)
        {
            int key = reader.ReadInt32();
            ulong high = reader.ReadUInt64(), low = reader.ReadUInt64();
            map[key] = (Int128)new UInt128(high, low);
        }
    }

    private static void AddTo(SortedDictionary<int, Int128> map, int key, Int128 delta)
    {
        if (delta == 0) return;
        Int128 value = (map.TryGetValue(key, out Int128 current) ? current : 0) + delta;
        if (value == 0) map.Remove(key);
        else map[key] = value;
    }

    /// <summary>Months since year 0: year × 12 + month − 1 (UTC).</summary>
    private static int MonthOf(int day)
    {
        DateTime date = DateTime.UnixEpoch.AddDays(day);
        return date.Year * 12 + date.Month - 1;
    }

    private static long Clamp(Int128 value) => value > long.MaxValue ? long.MaxValue : value < long.MinValue ? long.MinValue : (long)value;
}
