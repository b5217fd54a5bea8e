using System.Text.Json;

namespace Engine.LoadTest.Reports;

/// <summary>The machine-readable report: snake_case keys, as bench/Engine.Bench writes them (README "Load testing").</summary>
public static class JsonReport
{
    public static string Write(LoadTestReport report)
    {
        LoadTestOptions o = report.Options;
        LoadTestResult r = report.Result;
        var json = new Dictionary<string, object?>
        {
            ["benchmark"] = "loadtest",
            ["date_utc"] = report.DateUtc.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["machine_cores"] = report.MachineCores,
            ["machine_os"] = report.MachineOs,
            ["runtime"] = report.Runtime,
            ["command_line"] = report.CommandLine,
            ["run_id"] = report.RunId,
            ["config"] = new Dictionary<string, object?>
            {
                ["target"] = o.Target.ToString(),
                ["mode"] = o.Mode == LoadMode.OpenLoop ? "open-loop" : "closed-loop",
                ["api"] = o.Api,
                ["rate_per_second"] = o.Mode == LoadMode.OpenLoop ? o.RatePerSecond : null,
                ["concurrency"] = o.Mode == LoadMode.ClosedLoop ? o.Concurrency : null,
                ["execute_batch"] = o.ExecuteBatchSize,
                ["streams"] = o.ExecuteStreams,
                ["connections"] = o.Connections,
                ["seconds"] = o.Seconds,
                ["warmup_seconds"] = o.WarmupSeconds,
                ["max_requests"] = o.MaxRequests,
                ["max_in_flight"] = o.MaxInFlight,
                ["timeout_ms"] = o.TimeoutMs,
                ["mix"] = o.Mix.ToString(),
                ["accounts"] = o.Accounts,
                ["zipf"] = o.ZipfExponent,
                ["amount_min"] = o.AmountMinMinor,
                ["amount_max"] = o.AmountMaxMinor,
                ["credit_limit"] = o.CreditLimitMinor,
                ["seed"] = o.Seed,
                ["max_p99_ms"] = o.MaxP99Ms,
                ["max_error_rate"] = o.MaxErrorRate,
            },
            ["setup"] = report.Setup is null ? null : new Dictionary<string, object?>
            {
                ["accounts_opened"] = report.Setup.Opened,
                ["accounts_existing"] = report.Setup.Existing,
                ["seconds"] = Math.Round(report.Setup.Elapsed.TotalSeconds, 3),
            },
            ["measured_seconds"] = Math.Round(r.MeasuredSeconds, 3),
            ["offered_per_second"] = Math.Round(r.OfferedPerSecond, 1),
            ["achieved_per_second"] = Math.Round(r.AchievedPerSecond, 1),
            ["requests"] = r.Requests,
            ["sent"] = r.Sent,
            ["replies"] = r.Replies,
            ["approvals"] = r.Approvals,
            ["declines"] = r.Declines,
            ["errors"] = r.Errors,
            ["error_rate"] = r.ErrorRate,
            ["declines_by_status"] = r.DeclinesByStatus,
            ["errors_by_status"] = r.ErrorsByStatus,
            ["commands_by_kind"] = r.CommandsByKind,
            ["latency_p50_ms"] = Ms(r.LatencyP50Ms),
            ["latency_p90_ms"] = Ms(r.LatencyP90Ms),
            ["latency_p99_ms"] = Ms(r.LatencyP99Ms),
            ["latency_p999_ms"] = Ms(r.LatencyP999Ms),
            ["latency_p9999_ms"] = Ms(r.LatencyP9999Ms),
            ["latency_max_ms"] = Ms(r.LatencyMaxMs),
            ["latency_mean_ms"] = Ms(r.LatencyMeanMs),
            ["peak_in_flight"] = r.PeakInFlight,
            ["client_cpu_us_per_command"] = Math.Round(r.ClientCpuUsPerCommand, 2),
            ["ended_early"] = r.EndedEarly,
            ["passed"] = report.Passed,
            ["thresholds_broken"] = report.BrokenThresholds,
            ["timeline"] = r.Timeline.Select(t => new Dictionary<string, object>
            {
                ["second"] = t.Second,
                ["warmup"] = t.Warmup,
                ["offered"] = t.Offered,
                ["achieved"] = t.Completed,
                ["errors"] = t.Errors,
                ["p99_ms"] = Ms(t.P99Ms),
            }).ToList(),
            ["percentiles"] = r.Distribution.Select(p => new Dictionary<string, double>
            {
                ["percentile"] = Math.Round(p.Percentile, 6),
                ["latency_ms"] = Ms(p.LatencyMs),
            }).ToList(),
        };
        return JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true });
    }

    private static double Ms(double value) => Math.Round(value, 3);
}
