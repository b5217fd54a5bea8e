namespace Engine.Domain;

/// <summary>Engine days: UTC calendar days of engine time (docs/LIFECYCLE.md "Days are UTC calendar days").</summary>
public static class EngineDays
{
    public const long DayMs = 86_400_000;

    /// <summary>Days since the Unix epoch of the UTC day containing <paramref name="unixMs"/>.</summary>
    public static int DayOf(long unixMs) => (int)(unixMs >= 0 ? unixMs / DayMs : (unixMs - DayMs + 1) / DayMs);

    public static long StartOf(int day) => day * DayMs;

    /// <summary>The start of the first day after <paramref name="afterUnixMs"/>'s day whose day of month is <paramref name="statementDay"/>.</summary>
    public static long NextStatementAt(long afterUnixMs, int statementDay)
    {
        DateTime today = DateTime.UnixEpoch.AddDays(DayOf(afterUnixMs));
        var candidate = new DateTime(today.Year, today.Month, statementDay, 0, 0, 0, DateTimeKind.Utc);
        if (candidate <= today) candidate = candidate.AddMonths(1);
        return (long)(candidate - DateTime.UnixEpoch).TotalMilliseconds;
    }
}
