namespace Engine.LoadTest;

/// <summary>One second of the run, by completion time (offered: by intended send time).</summary>
public sealed record TimelineSecond(int Second, bool Warmup, long Offered, long Completed, long Errors, double P99Ms);

/// <summary>A point of the latency distribution: the latency at or below which <see cref="Percentile"/> % of replies came.</summary>
public sealed record PercentilePoint(double Percentile, double LatencyMs);

/// <summary>
/// What a run measured. Totals count commands whose intended send time fell in the measured window (after the
/// warm-up); latency is from each command's intended send time to its reply, so a stalled server or generator shows up
/// in it (no coordinated omission). Achieved = replies that arrived during the window / window length.
/// </summary>
public sealed record LoadTestResult
{
    public required double MeasuredSeconds { get; init; }
    public required double OfferedPerSecond { get; init; }
    public required double AchievedPerSecond { get; init; }
    /// <summary>Commands due in the window (sent or refused by the in-flight bound).</summary>
    public required long Requests { get; init; }
    public required long Sent { get; init; }
    public required long Replies { get; init; }
    public required long Approvals { get; init; }
    public required long Declines { get; init; }
    public required long Errors { get; init; }
    public required IReadOnlyDictionary<string, long> DeclinesByStatus { get; init; }
    public required IReadOnlyDictionary<string, long> ErrorsByStatus { get; init; }
    public required IReadOnlyDictionary<string, long> CommandsByKind { get; init; }
    public required double LatencyP50Ms { get; init; }
    public required double LatencyP90Ms { get; init; }
    public required double LatencyP99Ms { get; init; }
    public required double LatencyP999Ms { get; init; }
    public required double LatencyP9999Ms { get; init; }
    public required double LatencyMaxMs { get; init; }
    public required double LatencyMeanMs { get; init; }
    public required int PeakInFlight { get; init; }
    /// <summary>This process's CPU time (user + system, all threads) over the whole run divided by the commands sent, warm-up included.</summary>
    public double ClientCpuUsPerCommand { get; init; }
    public required IReadOnlyList<PercentilePoint> Distribution { get; init; }
    public required IReadOnlyList<TimelineSecond> Timeline { get; init; }
    /// <summary>True when the run ended early (Ctrl+C or --max-requests reached before --seconds).</summary>
    public required bool EndedEarly { get; init; }

    public double ErrorRate => Requests == 0 ? 0 : (double)Errors / Requests;
}
