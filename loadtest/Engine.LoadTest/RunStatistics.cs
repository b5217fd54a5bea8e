using Credit.V1;
using HdrHistogram;

namespace Engine.LoadTest;

/// <summary>
/// The run's bookkeeping, thread-safe under one lock (tens of thousands of acquisitions per second, uncontended
/// most of the time). Latencies are recorded in microseconds into HdrHistograms: one for the measured window (by
/// intended send time), and a ring of four per-second histograms (by completion time) for the timeline's p99.
/// Nothing is recorded after <see cref="Finish"/>: a reply that arrives after the drain gave up is ignored.
/// </summary>
public sealed class RunStatistics
{
    /// <summary>Highest latency tracked: one hour. Larger values are clamped to it.</summary>
    public const long LatencyMaxUs = 3_600_000_000;
    /// <summary>Seconds of timeline kept after the measured window, for the drain.</summary>
    public const int DrainSecondsMax = LoadTestOptions.Limits.TimeoutMsMax / 1000 + 2;
    private const int RingSize = 4;

    private readonly object _gate = new();
    private readonly long _startTs;
    private readonly long _frequency;
    private readonly long _warmupEndTs;
    private readonly long _endTs;
    private readonly int _warmupSeconds;
    private readonly LongHistogram _measured = new(LatencyMaxUs, 3);
    private readonly LongHistogram[] _ring = new LongHistogram[RingSize];
    private readonly int[] _ringSecond = new int[RingSize];
    private readonly long[] _offered;
    private readonly long[] _completed;
    private readonly long[] _errors;
    private readonly double[] _p99Ms;
    private readonly Dictionary<string, long> _declines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _errorsByStatus = new(StringComparer.Ordinal);
    private long _requests, _sent, _replies, _approvals, _declined, _errorCount, _achieved;
    private int _lastSecondSeen = -1;
    private bool _finished;

    public RunStatistics(long startTs, long frequency, int warmupSeconds, int seconds)
    {
        _startTs = startTs;
        _frequency = frequency;
        _warmupSeconds = warmupSeconds;
        _warmupEndTs = startTs + warmupSeconds * frequency;
        _endTs = _warmupEndTs + seconds * frequency;
        int timelineSeconds = warmupSeconds + seconds + DrainSecondsMax;
        _offered = new long[timelineSeconds];
        _completed = new long[timelineSeconds];
        _errors = new long[timelineSeconds];
        _p99Ms = new double[timelineSeconds];
        for (int r = 0; r < RingSize; r++)
        {
            _ring[r] = new LongHistogram(LatencyMaxUs, 2);
            _ringSecond[r] = -1;
        }
    }

    public long WarmupEndTimestamp => _warmupEndTs;
    public long EndTimestamp => _endTs;

    /// <summary>Commands that are due now: sent (<paramref name="sent"/>) or refused by the in-flight bound.</summary>
    public void Offered(long intendedTs, int commands, bool sent)
    {
        lock (_gate)
        {
            if (_finished) return;
            _offered[SecondOf(intendedTs)] += commands;
            if (!sent) _errors[SecondOf(intendedTs)] += commands;
            if (!InWindow(intendedTs)) return;
            _requests += commands;
            if (sent) _sent += commands;
            else AddError(StatusLabels.InFlightLimit, commands);
        }
    }

    /// <summary>A send answered: one reply per command. Declines are replies; STATUS_ENGINE_UNAVAILABLE is an error (not executed).</summary>
    public void Replied(long intendedTs, long completedTs, IReadOnlyList<CommandReply> replies)
    {
        long latencyUs = LatencyUs(intendedTs, completedTs);
        lock (_gate)
        {
            if (_finished) return;
            int second = SecondOf(completedTs);
            bool measured = InWindow(intendedTs);
            long answered = 0;
            foreach (CommandReply reply in replies)
            {
                if (reply.Status is Credit.V1.Status.EngineUnavailable or Credit.V1.Status.Unspecified)
                {
                    _errors[second]++;
                    if (measured) AddError(StatusLabels.Of(reply.Status, reply.ResponseCode), 1);
                    continue;
                }
                answered++;
                if (!measured) continue;
                _replies++;
                if (reply.Status == Credit.V1.Status.Ok) _approvals++;
                else
                {
                    _declined++;
                    string label = StatusLabels.Of(reply.Status, reply.ResponseCode);
                    _declines[label] = _declines.GetValueOrDefault(label) + 1;
                }
            }
            if (answered == 0) return;
            _completed[second] += answered;
            if (completedTs >= _warmupEndTs && completedTs < _endTs) _achieved += answered;
            RingFor(second).RecordValueWithCount(latencyUs, answered);
            if (measured) _measured.RecordValueWithCount(latencyUs, answered);
        }
    }

    /// <summary>A send failed as a whole (gRPC status, stream lost, drain timeout): every command in it is an error.</summary>
    public void Failed(long intendedTs, long completedTs, string status, int commands)
    {
        lock (_gate)
        {
            if (_finished) return;
            _errors[SecondOf(completedTs)] += commands;
            if (InWindow(intendedTs)) AddError(status, commands);
        }
    }

    /// <summary>Figures of second <paramref name="second"/> (0 = the first) so far, for the progress line.</summary>
    public (long Offered, long Completed, long Errors, double P99Ms, double RunP99Ms, long RunErrors) Second(int second)
    {
        lock (_gate)
        {
            if (second < 0 || second >= _offered.Length) return (0, 0, 0, 0, 0, 0);
            int slot = second % RingSize;
            double p99Ms = _ringSecond[slot] == second ? Ms(_ring[slot].GetValueAtPercentile(99)) : _p99Ms[second];
            double runP99Ms = _measured.TotalCount == 0 ? 0 : Ms(_measured.GetValueAtPercentile(99));
            return (_offered[second], _completed[second], _errors[second], p99Ms, runP99Ms, _errorCount);
        }
    }

    /// <summary>Stops recording and summarises. <paramref name="lastTs"/> is when the run ended (the timeline stops there).</summary>
    public LoadTestResult Finish(long lastTs, double measuredSeconds, IReadOnlyDictionary<string, long> commandsByKind, int peakInFlight, bool endedEarly)
    {
        lock (_gate)
        {
            _finished = true;
            for (int r = 0; r < RingSize; r++) FinishRingSlot(r);
            int seconds = Math.Max(SecondOf(lastTs - 1) + 1, _lastSecondSeen + 1);
            var timeline = new List<TimelineSecond>(seconds);
            for (int s = 0; s < seconds; s++) timeline.Add(new TimelineSecond(s, s < _warmupSeconds, _offered[s], _completed[s], _errors[s], _p99Ms[s]));
            double window = Math.Max(measuredSeconds, 1e-9);
            bool any = _measured.TotalCount > 0;
            return new LoadTestResult
            {
                MeasuredSeconds = measuredSeconds,
                OfferedPerSecond = _requests / window,
                AchievedPerSecond = _achieved / window,
                Requests = _requests,
                Sent = _sent,
                Replies = _replies,
                Approvals = _approvals,
                Declines = _declined,
                Errors = _errorCount,
                DeclinesByStatus = Sorted(_declines),
                ErrorsByStatus = Sorted(_errorsByStatus),
                CommandsByKind = commandsByKind,
                LatencyP50Ms = any ? Ms(_measured.GetValueAtPercentile(50)) : 0,
                LatencyP90Ms = any ? Ms(_measured.GetValueAtPercentile(90)) : 0,
                LatencyP99Ms = any ? Ms(_measured.GetValueAtPercentile(99)) : 0,
                LatencyP999Ms = any ? Ms(_measured.GetValueAtPercentile(99.9)) : 0,
                LatencyP9999Ms = any ? Ms(_measured.GetValueAtPercentile(99.99)) : 0,
                LatencyMaxMs = any ? Ms(_measured.GetMaxValue()) : 0,
                LatencyMeanMs = any ? _measured.GetMean() / 1000.0 : 0,
                PeakInFlight = peakInFlight,
                Distribution = any ? Distribution(_measured) : [],
                Timeline = timeline,
                EndedEarly = endedEarly,
            };
        }
    }

    /// <summary>The percentile distribution (HdrHistogram's iteration: steps halve towards 100 %), ending with the max at 100 %.</summary>
    private static List<PercentilePoint> Distribution(LongHistogram histogram)
    {
        var points = new List<PercentilePoint>();
        foreach (var value in histogram.Percentiles(5))
        {
            double percentile = value.PercentileLevelIteratedTo;
            if (percentile >= 100) break;
            if (points.Count < 1_000) points.Add(new PercentilePoint(percentile, Ms(value.ValueIteratedTo)));
        }
        points.Add(new PercentilePoint(100, Ms(histogram.GetMaxValue())));
        return points;
    }

    private LongHistogram RingFor(int second)
    {
        int slot = second % RingSize;
        if (_ringSecond[slot] != second)
        {
            FinishRingSlot(slot);
            _ringSecond[slot] = second;
        }
        _lastSecondSeen = Math.Max(_lastSecondSeen, second);
        return _ring[slot];
    }

    private void FinishRingSlot(int slot)
    {
        int second = _ringSecond[slot];
        if (second < 0) return;
        if (_ring[slot].TotalCount > 0) _p99Ms[second] = Ms(_ring[slot].GetValueAtPercentile(99));
        _ring[slot].Reset();
        _ringSecond[slot] = -1;
    }

    private void AddError(string status, long commands)
    {
        _errorCount += commands;
        _errorsByStatus[status] = _errorsByStatus.GetValueOrDefault(status) + commands;
    }

    private bool InWindow(long intendedTs) => intendedTs >= _warmupEndTs && intendedTs < _endTs;

    private int SecondOf(long ts)
    {
        long second = (ts - _startTs) / _frequency;
        return (int)Math.Clamp(second, 0, _offered.Length - 1);
    }

    private long LatencyUs(long intendedTs, long completedTs)
    {
        long us = (long)((completedTs - intendedTs) * (1_000_000.0 / _frequency));
        return Math.Clamp(us, 1, LatencyMaxUs);
    }

    private static double Ms(long us) => us / 1000.0;

    private static Dictionary<string, long> Sorted(Dictionary<string, long> counts) =>
        counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => c.Value);
}
