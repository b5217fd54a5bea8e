using System.Diagnostics;
using Engine.Domain;
using HdrHistogram;

namespace Engine.Bench;

/// <summary>
/// A month of lifecycle ticks over a large portfolio (issue #13 item 6): <c>--accounts</c> accounts on TERMS billing
/// (net 30), each with one posting on the same day (the worst case: every due falls on one day), of which
/// <c>--late-percent</c> never pay; then engine time moves forward in ticks of <c>--tick-ms</c> (the engine's tick
/// interval) for <c>--days</c> days, and every tick's time on the decide thread is recorded. A tick is the only
/// lifecycle work the decide thread does unasked; its duration is the stall every command queued behind it sees.
/// <para>
/// The engine's own time skips ahead between ticks (a day is not 864,000 ticks): the harness ticks every
/// <c>--tick-ms</c> of engine time only around the dates of interest (the first <c>--busy-ticks</c> (1,000) ticks after each
/// day starts, where the due, reminder and threshold work lands, capped per tick by
/// <c>Engine:Ledger:LifecycleEventsPerTickMax</c>), and once at each other hour.
/// </para>
/// </summary>
internal static class LifecycleTicksBenchmark
{
    private const long DayMs = 86_400_000;

    public static Task<int> RunAsync(BenchArgs args)
    {
        int accounts = args.Int("accounts", 1_000_000);
        int latePercent = args.Int("late-percent", 10);
        int days = args.Int("days", 75);
        int tickMs = args.Int("tick-ms", 100);
        int busyTicks = args.Int("busy-ticks", 1000);
        int perTickMax = args.Int("events-per-tick-max", new LedgerOptions().LifecycleEventsPerTickMax);
        int timersPerTickMax = args.Int("timers-per-tick-max", new LedgerOptions().LifecycleTimersPerTickMax);
        string? jsonPath = args.String("json");
        // --no-warmup: without CreditEngine's start-up warm-up and collection, to see what they are for.
        bool warmup = !args.Flag("no-warmup");
        args.RejectUnknown();

        var options = new LedgerOptions
        {
            ExpectedAccounts = accounts,
            ExpectedRequestIds = accounts * 3,
            ExpectedAuthorizations = 1024,
            LifecycleEventsPerTickMax = perTickMax,
            LifecycleTimersPerTickMax = timersPerTickMax,
        };
        var ledger = new Ledger(options);
        var sink = new CountingSink();
        long now = new DateTimeOffset(2026, 1, 1, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var terms = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = 30 };
        var build = Stopwatch.StartNew();
        for (int n = 0; n < accounts; n++)
        {
            string id = PipelineBenchmark.AccountId(n);
            Execute(ledger, Command.OpenAccount($"o{n}", id, $"c{n}", "USD", 1_000_000, terms), now, sink);
            Execute(ledger, Command.ForcePost($"p{n}", id, 10_000), now, sink);
            // Deterministic: every (100 / latePercent)-th account never pays.
            bool late = latePercent > 0 && n % (100 / latePercent) == 0;
            if (!late) Execute(ledger, Command.Repay($"r{n}", id, 10_000), now, sink);
        }
        Console.WriteLine($"built {accounts:N0} TERMS accounts ({latePercent} % late) in {build.Elapsed.TotalSeconds:F1} s; {sink.Count:N0} events");
        // What CreditEngine does before its decide thread starts (the ledger here stands for the recovered one).
        if (warmup)
        {
            LedgerWarmup.Run();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        }

        var ticksUs = new LongHistogram(TimeSpan.TicksPerHour / 10, 3);
        // Ticks during which the GC paused the process, and the worst tick without a GC pause: a stall from the GC is
        // the runtime's, one without it is the tick's own work.
        var quietTicksUs = new LongHistogram(TimeSpan.TicksPerHour / 10, 3);
        long ticksWithGc = 0;
        TimeSpan pausedBefore = GC.GetTotalPauseDuration();
        int gen0Before = GC.CollectionCount(0), gen1Before = GC.CollectionCount(1), gen2Before = GC.CollectionCount(2);
        long lifecycleEvents = 0, ticks = 0, worstEvents = 0;
        // The slowest busy ticks (tick number, engine day, events, µs), to tell a one-time cost (JIT) from steady work.
        var slowest = new List<(long Tick, long Day, long Events, long Us)>();
        var byType = new Dictionary<EventType, long>();
        sink.ByType = byType;
        long start = now;
        long end = start + days * DayMs;
        var clock = Stopwatch.StartNew();
        while (now < end)
        {
            long dayStart = now - (now - start) % DayMs;
            long intoDay = now - dayStart;
            // Busy ticks at the start of each engine day, then one an hour.
            now += intoDay < (long)busyTicks * tickMs ? tickMs : 3_600_000 - intoDay % 3_600_000;
            long before = sink.Count;
            TimeSpan paused = GC.GetTotalPauseDuration();
            long t0 = Stopwatch.GetTimestamp();
            ledger.Execute(Command.Tick(), now, sink);
            long elapsedUs = (long)Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            ticksUs.RecordValue(Math.Max(1, elapsedUs));
            if (GC.GetTotalPauseDuration() > paused) ticksWithGc++;
            else quietTicksUs.RecordValue(Math.Max(1, elapsedUs));
            long emitted = sink.Count - before;
            if (emitted > 0)
            {
                slowest.Add((ticks, (now - start) / DayMs, emitted, elapsedUs));
                slowest.Sort((x, y) => y.Us.CompareTo(x.Us));
                if (slowest.Count > 5) slowest.RemoveAt(5);
            }
            lifecycleEvents += emitted;
            if (emitted > worstEvents) worstEvents = emitted;
            ticks++;
        }
        clock.Stop();
        ledger.CheckInvariants();
        BenchReport.PrintLatency("tick", ticksUs);
        BenchReport.PrintLatency("tick without a GC pause", quietTicksUs);
        Console.WriteLine("slowest ticks with work: " + string.Join("; ", slowest.Select(t => $"#{t.Tick} day {t.Day}: {t.Events} events in {t.Us} µs")));
        double gcPauseMs = (GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds;
        Console.WriteLine($"GC during the ticks: {GC.CollectionCount(0) - gen0Before} gen0, {GC.CollectionCount(1) - gen1Before} gen1, {GC.CollectionCount(2) - gen2Before} gen2; paused {gcPauseMs:F1} ms in {ticksWithGc} ticks");
        Console.WriteLine($"{ticks:N0} ticks over {days} days: {lifecycleEvents:N0} lifecycle events ({string.Join(", ", byType.Select(p => $"{p.Key} {p.Value:N0}"))}); most in one tick {worstEvents:N0}; wall {clock.Elapsed.TotalSeconds:F1} s");

        Dictionary<string, object?> result = BenchReport.Machine();
        result["benchmark"] = "lifecycle-ticks";
        result["accounts"] = accounts;
        result["late_percent"] = latePercent;
        result["days"] = days;
        result["tick_ms"] = tickMs;
        result["events_per_tick_max"] = perTickMax;
        result["timers_per_tick_max"] = timersPerTickMax;
        result["ticks"] = ticks;
        result["lifecycle_events"] = lifecycleEvents;
        result["events_by_type"] = byType.ToDictionary(p => p.Key.ToString(), p => p.Value);
        result["most_events_in_one_tick"] = worstEvents;
        result["tick_us_p50"] = ticksUs.GetValueAtPercentile(50);
        result["tick_us_p99"] = ticksUs.GetValueAtPercentile(99);
        result["tick_us_p999"] = ticksUs.GetValueAtPercentile(99.9);
        result["tick_us_max"] = ticksUs.GetMaxValue();
        result["tick_without_gc_us_p999"] = quietTicksUs.GetValueAtPercentile(99.9);
        result["tick_without_gc_us_max"] = quietTicksUs.GetMaxValue();
        result["ticks_with_gc_pause"] = ticksWithGc;
        result["slowest_ticks"] = slowest.Select(t => new Dictionary<string, long> { ["tick"] = t.Tick, ["day"] = t.Day, ["events"] = t.Events, ["us"] = t.Us }).ToList();
        result["gc_pause_ms_during_ticks"] = Math.Round(gcPauseMs, 1);
        result["warmup"] = warmup;
        result["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null;
        BenchReport.WriteJson(jsonPath, result);
        return Task.FromResult(0);
    }

    private static void Execute(Ledger ledger, Command command, long now, IEventSink sink)
    {
        Reply reply = ledger.Execute(command, now, sink);
        if (reply.Status != Status.Ok) throw new InvalidOperationException($"{command.Type} {command.RequestId}: {reply.Status}");
    }

    private sealed class CountingSink : IEventSink
    {
        public long Count;
        public Dictionary<EventType, long>? ByType;

        public void OnEvent(in LedgerEvent ledgerEvent)
        {
            Count++;
            if (ByType is { } byType) byType[ledgerEvent.Type] = byType.GetValueOrDefault(ledgerEvent.Type) + 1;
        }
    }
}
