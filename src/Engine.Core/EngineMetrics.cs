using System.Diagnostics.Metrics;
using Engine.Domain;

namespace Engine.Core;

/// <summary>
/// The engine's instruments on the <c>Credit.Engine</c> meter (README.md "Operating it" lists each with its alert).
/// The decide thread runs at about 700 ns a command, so nothing here costs it a lock or an allocation per command:
/// commands are counted in a plain array that only the decide thread writes and a scrape reads (an observable counter);
/// histograms are recorded once per batch (decide batch size), per commit (latency, commands per fsync) or per snapshot.
/// Every engine has its own <see cref="Meter"/> instance, disposed with it.
/// </summary>
public sealed class EngineMetrics : IDisposable
{
    public const string MeterName = "Credit.Engine";

    private static readonly int TypeCount = Enum.GetValues<CommandType>().Max(t => (int)t) + 1;
    private static readonly int StatusCount = Enum.GetValues<Status>().Max(s => (int)s) + 1;
    // Tag values made once: a scrape reports every non-zero cell without formatting an enum.
    private static readonly string[] TypeNames = [.. Enumerable.Range(0, TypeCount).Select(t => ((CommandType)t).ToString())];
    private static readonly string[] StatusNames = [.. Enumerable.Range(0, StatusCount).Select(s => ((Status)s).ToString())];

    private readonly Meter _meter = new(MeterName);
    // Commands decided, [type * StatusCount + status]. Written only by the decide thread with plain increments (one
    // writer: no lost update); read by a scrape on another thread with Volatile.Read. A 64-bit aligned read never tears
    // on the 64-bit platforms .NET runs this on; a scrape may see a count one batch old, which the next scrape corrects.
    private readonly long[] _commands = new long[TypeCount * StatusCount];
    private readonly Histogram<long> _decideBatchSize;
    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<long> _commitCommands;
    private readonly Histogram<double> _snapshotDuration;
    // Commands refused because the ring was full (overload): on the refusal path only, so an Interlocked add is fine.
    private long _repliesRefused;
    // When the newest snapshot was written (Unix ms; 0 = none by this process), for the snapshot-age gauge.
    private long _lastSnapshotUnixMs;

    internal EngineMetrics()
    {
        _decideBatchSize = _meter.CreateHistogram("credit.engine.decide.batch_size", "{command}", "Commands the decide thread took in one ring batch",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192] });
        _commitDuration = _meter.CreateHistogram("credit.engine.commit.duration", "s", "Time of one journal group commit (append flush and fsync)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] });
        _commitCommands = _meter.CreateHistogram("credit.engine.commit.commands", "{command}", "Commands made durable by one fsync (group commit size)",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192] });
        _snapshotDuration = _meter.CreateHistogram("credit.engine.snapshot.duration", "s", "Time to write one engine snapshot",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        _meter.CreateObservableCounter("credit.engine.commands", ObserveCommands, "{command}", "Commands decided, by type and status (replays included)");
        _meter.CreateObservableCounter("credit.engine.replies_refused", () => Interlocked.Read(ref _repliesRefused), "{command}",
            "Commands refused at once because the ring was full (RESOURCE_EXHAUSTED / ENGINE_UNAVAILABLE)");
    }

    /// <summary>Adds the gauges that read the running engine (created once it exists).</summary>
    internal void Observe(CreditEngine engine, Func<long> ringOccupancy, int ringSize, TimeProvider clock)
    {
        _meter.CreateObservableGauge("credit.engine.ring.occupancy", ringOccupancy, "{slot}", "Ring slots published and not yet replied");
        _meter.CreateObservableGauge("credit.engine.ring.size", () => ringSize, "{slot}", "Ring capacity (Engine:RingSize)");
        _meter.CreateObservableGauge("credit.engine.snapshot.age", ObserveSnapshotAge(clock), "s",
            "Time since this process last wrote an engine snapshot (no value before its first)");
        _meter.CreateObservableGauge("credit.engine.idempotency.entries", () => engine.IdempotencyWindow.Entries, "{request_id}", "Request ids remembered in memory");
        _meter.CreateObservableGauge("credit.engine.idempotency.spilled_entries", () => engine.IdempotencyWindow.SpilledEntries, "{request_id}",
            "Request ids remembered in the on-disk spill store");
        _meter.CreateObservableGauge("credit.engine.idempotency.window", () => engine.IdempotencyWindow.EffectiveWindowMs / 1000.0, "s",
            "Age of the oldest request id still answered as a replay");
        _meter.CreateObservableGauge("credit.engine.idempotency.below_configured", () => engine.IdempotencyWindow.BelowConfigured ? 1 : 0, "",
            "1 while the effective window is below the configured minimums");
        _meter.CreateObservableGauge("credit.engine.accepting", () => engine.IsAccepting ? 1 : 0, "", "1 while the engine accepts commands");
    }

    /// <summary>Decide thread, per command.</summary>
    internal void CountCommand(CommandType type, Status status) => _commands[(int)type * StatusCount + (int)status]++;

    /// <summary>Decide thread, per batch.</summary>
    internal void RecordDecideBatch(long batchSize) => _decideBatchSize.Record(batchSize);

    /// <summary>Journal thread, per group commit.</summary>
    internal void RecordCommit(long commands, double seconds)
    {
        _commitDuration.Record(seconds);
        _commitCommands.Record(commands);
    }

    internal void RecordSnapshot(long writtenAtUnixMs, double seconds)
    {
        _snapshotDuration.Record(seconds);
        Interlocked.Exchange(ref _lastSnapshotUnixMs, writtenAtUnixMs);
    }

    internal void CountRefused(int commands) => Interlocked.Add(ref _repliesRefused, commands);

    /// <summary>Total commands counted for <paramref name="type"/> with <paramref name="status"/> (tests, diagnostics).</summary>
    public long Commands(CommandType type, Status status) => Volatile.Read(ref _commands[(int)type * StatusCount + (int)status]);

    private Func<IEnumerable<Measurement<double>>> ObserveSnapshotAge(TimeProvider clock) => () =>
    {
        long last = Interlocked.Read(ref _lastSnapshotUnixMs);
        return last == 0 ? [] : [new Measurement<double>(Math.Max(0, clock.GetUtcNow().ToUnixTimeMilliseconds() - last) / 1000.0)];
    };

    private IEnumerable<Measurement<long>> ObserveCommands()
    {
        var measurements = new List<Measurement<long>>();
        for (int i = 0; i < _commands.Length; i++)
        {
            long count = Volatile.Read(ref _commands[i]);
            if (count == 0) continue;
            measurements.Add(new Measurement<long>(count, new KeyValuePair<string, object?>("type", TypeNames[i / StatusCount]),
                new KeyValuePair<string, object?>("status", StatusNames[i % StatusCount])));
        }
        return measurements;
    }

    public void Dispose() => _meter.Dispose();
}
