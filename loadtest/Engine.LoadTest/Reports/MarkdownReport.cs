using System.Globalization;
using System.Text;

namespace Engine.LoadTest.Reports;

/// <summary>The human-readable summary: headline table, outcomes, percentiles, configuration.</summary>
public static class MarkdownReport
{
    public static string Write(LoadTestReport report)
    {
        LoadTestResult r = report.Result;
        var md = new StringBuilder();
        Line(md, $"# Load test: {report.Title}");
        Blank(md);
        Line(md, $"{report.DateUtc:yyyy-MM-dd HH:mm} UTC · {report.MachineCores} cores · {report.MachineOs} · {report.Runtime} · target {report.Options.Target}");
        Blank(md);
        Line(md, $"```sh\n{report.CommandLine}\n```");
        Blank(md);
        Text(md, "| offered/s | achieved/s | p50 | p90 | p99 | p99.9 | max | requests | errors |");
        Text(md, "|---|---|---|---|---|---|---|---|---|");
        Line(md, $"| {r.OfferedPerSecond:N0} | {r.AchievedPerSecond:N0} | {Ms(r.LatencyP50Ms)} | {Ms(r.LatencyP90Ms)} | {Ms(r.LatencyP99Ms)} | {Ms(r.LatencyP999Ms)} | {Ms(r.LatencyMaxMs)} | {r.Requests:N0} | {r.Errors:N0} ({r.ErrorRate:P3}) |");
        Blank(md);
        Text(md, report.Passed
            ? (report.Options.MaxP99Ms is null && report.Options.MaxErrorRate is null ? "No thresholds were set." : "**Passed** every threshold.")
            : "**Thresholds broken:** " + string.Join("; ", report.BrokenThresholds) + ".");
        if (r.EndedEarly) Line(md, $"\nThe run ended early (Ctrl+C or --max-requests): {r.MeasuredSeconds:F1} s were measured.");
        Blank(md);
        Text(md, "Latency is from each command's intended send time (open loop) to its reply, so stalls are included. Counts are of commands due after the warm-up.");
        Blank(md);
        Text(md, "## Outcomes");
        Blank(md);
        Text(md, "| outcome | commands |");
        Text(md, "|---|---|");
        Line(md, $"| approved (STATUS_OK) | {r.Approvals:N0} |");
        foreach ((string status, long count) in r.DeclinesByStatus) Line(md, $"| declined: {status} | {count:N0} |");
        foreach ((string status, long count) in r.ErrorsByStatus) Line(md, $"| error: {status} | {count:N0} |");
        Blank(md);
        Text(md, "Commands generated (whole run): " + string.Join(", ", r.CommandsByKind.Select(k => $"{k.Key} {k.Value:N0}")) + $". Peak in flight: {r.PeakInFlight:N0}. Load generator CPU: {r.ClientCpuUsPerCommand:F1} µs per command.");
        if (report.Setup is { } setup) Line(md, $"Setup: {setup.Opened:N0} accounts opened, {setup.Existing:N0} already there, in {setup.Elapsed.TotalSeconds:F1} s.");
        Blank(md);
        Text(md, "## Latency by percentile");
        Blank(md);
        Text(md, "| percentile | latency |");
        Text(md, "|---|---|");
        foreach ((string label, double ms) in new[] { ("50", r.LatencyP50Ms), ("90", r.LatencyP90Ms), ("99", r.LatencyP99Ms), ("99.9", r.LatencyP999Ms), ("99.99", r.LatencyP9999Ms), ("max", r.LatencyMaxMs) })
            Line(md, $"| {label} | {Ms(ms)} |");
        Blank(md);
        Text(md, "## Configuration");
        Blank(md);
        Text(md, "| flag | value |");
        Text(md, "|---|---|");
        foreach ((string flag, string value) in report.Configuration) Line(md, $"| `{flag}` | {value} |");
        return md.ToString();
    }

    internal static string Ms(double ms) => ms switch
    {
        >= 100 => ms.ToString("N0", CultureInfo.InvariantCulture) + " ms",
        >= 10 => ms.ToString("F1", CultureInfo.InvariantCulture) + " ms",
        _ => ms.ToString("F2", CultureInfo.InvariantCulture) + " ms",
    };

    private static void Line(StringBuilder md, FormattableString text) => md.Append(text.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static void Text(StringBuilder md, string text) => md.Append(text).Append('\n');

    private static void Blank(StringBuilder md) => md.Append('\n');
}
