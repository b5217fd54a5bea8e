namespace Desk.Domain;

/// <summary>
/// Working hours for deadlines: Monday-Friday, <see cref="DayStartHour"/> to <see cref="DayEndHour"/> in the desk's
/// time zone (China Standard Time by default). "24 working hours" from Friday 17:00 therefore ends on Wednesday.
/// Public holidays are not modelled yet (a holiday list would slot in at <see cref="IsWorkingDay"/>).
/// </summary>
public sealed class WorkingCalendar
{
    public WorkingCalendar(TimeZoneInfo timeZone, int dayStartHour = 9, int dayEndHour = 18)
    {
        if (dayStartHour is < 0 or > 23) throw new ArgumentOutOfRangeException(nameof(dayStartHour), "must be 0..23");
        if (dayEndHour <= dayStartHour || dayEndHour > 24) throw new ArgumentOutOfRangeException(nameof(dayEndHour), "must be after the start and at most 24");
        TimeZone = timeZone;
        DayStartHour = dayStartHour;
        DayEndHour = dayEndHour;
    }

    public TimeZoneInfo TimeZone { get; }
    public int DayStartHour { get; }
    public int DayEndHour { get; }

    public static WorkingCalendar ChinaStandard() => new(TimeZoneInfo.CreateCustomTimeZone("CST+8", TimeSpan.FromHours(8), "China Standard Time", "China Standard Time"));

    public static bool IsWorkingDay(DateTime localDate) => localDate.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);

    /// <summary>The instant <paramref name="hours"/> working hours after <paramref name="start"/>.</summary>
    public DateTimeOffset AddWorkingHours(DateTimeOffset start, double hours)
    {
        if (hours < 0) throw new ArgumentOutOfRangeException(nameof(hours), "must be >= 0");
        DateTime local = TimeZoneInfo.ConvertTime(start, TimeZone).DateTime;
        var remaining = TimeSpan.FromHours(hours);
        while (true)
        {
            DateTime dayStart = local.Date.AddHours(DayStartHour);
            DateTime dayEnd = local.Date.AddHours(DayEndHour);
            if (!IsWorkingDay(local) || local >= dayEnd)
            {
                local = NextDayStart(local);
                continue;
            }
            if (local < dayStart) local = dayStart;
            TimeSpan left = dayEnd - local;
            if (remaining <= left)
            {
                local += remaining;
                return new DateTimeOffset(local, TimeZone.GetUtcOffset(local)).ToUniversalTime();
            }
            remaining -= left;
            local = NextDayStart(local);
        }
    }

    private DateTime NextDayStart(DateTime local) => local.Date.AddDays(1).AddHours(DayStartHour);
}
