using System.Globalization;
using System.Net;
using System.Text;

namespace Engine.LoadTest.Reports;

/// <summary>
/// A self-contained HTML report (inline CSS and SVG drawn by ScottPlot, no scripts, nothing fetched): headline figures, the
/// latency-by-percentile plot on a "nines" axis, throughput over time (offered vs achieved, p99 per second on the
/// right axis), outcomes, percentiles and the configuration.
/// </summary>
public static class HtmlReport
{
    public const string PercentileChartId = "latency-by-percentile";
    public const string ThroughputChartId = "throughput-over-time";
    private const string Blue = "#2563eb", Green = "#16a34a", Orange = "#ea580c", Red = "#dc2626", Grey = "#6b7280";

    public static string Write(LoadTestReport report)
    {
        LoadTestResult r = report.Result;
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append($"<title>Load test: {E(report.Title)}</title>\n<style>\n{Css}\n</style>\n</head>\n<body>\n<main>\n");
        html.Append($"<h1>Load test</h1>\n<p class=\"subtitle\">{E(report.Title)}</p>\n");
        html.Append(I($"<p class=\"meta\">{report.DateUtc:yyyy-MM-dd HH:mm} UTC · {report.MachineCores} cores · {E(report.MachineOs)} · {E(report.Runtime)} · target {E(report.Options.Target.ToString())}</p>\n"));
        html.Append($"<pre class=\"command\">{E(report.CommandLine)}</pre>\n");

        string verdict = report.Passed
            ? (report.Options.MaxP99Ms is null && report.Options.MaxErrorRate is null ? "no thresholds set" : "passed every threshold")
            : "thresholds broken: " + string.Join("; ", report.BrokenThresholds);
        html.Append($"<p class=\"verdict {(report.Passed ? "pass" : "fail")}\">{E(verdict)}</p>\n");

        html.Append("<section class=\"cards\">\n");
        Card(html, "offered", I($"{r.OfferedPerSecond:N0}/s"));
        Card(html, "achieved", I($"{r.AchievedPerSecond:N0}/s"));
        Card(html, "p50", MarkdownReport.Ms(r.LatencyP50Ms));
        Card(html, "p99", MarkdownReport.Ms(r.LatencyP99Ms));
        Card(html, "p99.9", MarkdownReport.Ms(r.LatencyP999Ms));
        Card(html, "max", MarkdownReport.Ms(r.LatencyMaxMs));
        Card(html, "errors", r.Errors == 0 ? "0" : I($"{r.Errors:N0} · {r.ErrorRate:P1}"));
        html.Append("</section>\n");

        html.Append("<h2>Latency by percentile</h2>\n");
        html.Append("<p class=\"note\">Each point is the latency that that share of replies met or beat, measured from the command's intended send time. The x-axis counts nines: 90 %, 99 %, 99.9 %, …; the right end is the maximum.</p>\n");
        html.Append("<figure>").Append(PercentileChart(report)).Append("</figure>\n");
        html.Append("<h2>Throughput over time</h2>\n");
        html.Append("<p class=\"note\">Commands per second: offered (due by the schedule) and achieved (replies received in that second); the dashed line is that second's p99 latency, on the right axis. The shaded start is the warm-up, not counted in the totals.</p>\n");
        html.Append("<figure>").Append(ThroughputChart(report)).Append("</figure>\n");

        html.Append("<h2>Outcomes</h2>\n<table>\n<tr><th>outcome</th><th class=\"num\">commands</th></tr>\n");
        Row(html, "approved (STATUS_OK)", r.Approvals);
        foreach ((string status, long count) in r.DeclinesByStatus) Row(html, "declined: " + status, count);
        foreach ((string status, long count) in r.ErrorsByStatus) Row(html, "error: " + status, count, "error");
        html.Append("</table>\n");
        html.Append(I($"<p class=\"note\">Requests due after the warm-up: {r.Requests:N0}; sent {r.Sent:N0}; replies {r.Replies:N0}; peak in flight {r.PeakInFlight:N0}; load generator CPU {r.ClientCpuUsPerCommand:F1} µs per command. Generated over the whole run: {E(string.Join(", ", r.CommandsByKind.Select(k => I($"{k.Key} {k.Value:N0}"))))}.</p>\n"));
        if (report.Setup is { } setup)
            html.Append(I($"<p class=\"note\">Setup: {setup.Opened:N0} accounts opened, {setup.Existing:N0} already there, in {setup.Elapsed.TotalSeconds:F1} s.</p>\n"));

        html.Append("<div class=\"columns\">\n<div>\n<h2>Percentiles</h2>\n<table>\n<tr><th>percentile</th><th class=\"num\">latency</th></tr>\n");
        foreach ((string label, double ms) in new[] { ("50", r.LatencyP50Ms), ("90", r.LatencyP90Ms), ("99", r.LatencyP99Ms), ("99.9", r.LatencyP999Ms), ("99.99", r.LatencyP9999Ms), ("max", r.LatencyMaxMs) })
            html.Append($"<tr><td>{label}</td><td class=\"num\">{MarkdownReport.Ms(ms)}</td></tr>\n");
        html.Append("</table>\n</div>\n<div>\n<h2>Configuration</h2>\n<table>\n<tr><th>flag</th><th>value</th></tr>\n");
        foreach ((string flag, string value) in report.Configuration) html.Append($"<tr><td><code>{E(flag)}</code></td><td>{E(value)}</td></tr>\n");
        html.Append("</table>\n</div>\n</div>\n");
        html.Append($"<footer>run {E(report.RunId)} · Engine.LoadTest</footer>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    private const int ChartWidth = 900, ChartHeight = 380;

    /// <summary>Latency against percentile on a log "nines" axis: x = -log10(1 - p/100), so 90 % is 1, 99 % is 2, 99.9 % is 3.</summary>
    public static string PercentileChart(LoadTestReport report)
    {
        LoadTestResult r = report.Result;
        var plot = NewPlot("Latency by percentile", "percentile", "latency (ms)");
        List<PercentilePoint> below100 = [.. r.Distribution.Where(p => p.Percentile < 100)];
        double lastNines = below100.Count == 0 ? 0 : Nines(below100[^1].Percentile);
        int ninesMax = (int)Math.Clamp(Math.Ceiling(lastNines), 2, 7);
        double yMax = Math.Max(r.LatencyMaxMs, report.Options.MaxP99Ms ?? 0) * 1.08;
        plot.Axes.SetLimits(0, ninesMax, 0, yMax <= 0 ? 1 : yMax);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, ninesMax + 1).Select(n => (double)n)], [.. Enumerable.Range(0, ninesMax + 1).Select(NinesLabel)]);
        if (report.Options.MaxP99Ms is double threshold)
        {
            var line = plot.Add.HorizontalLine(threshold, 1.5f, ScottPlot.Color.FromHex(Red), ScottPlot.LinePattern.Dashed);
            line.LegendText = I($"--max-p99-ms {threshold:0.###}");
        }
        var points = below100.Select(p => (X: Nines(p.Percentile), Y: p.LatencyMs)).ToList();
        if (r.Distribution.Count > 0) points.Add((ninesMax, r.LatencyMaxMs));
        Series(plot, "latency (measured window)", [.. points.Select(p => p.X)], [.. points.Select(p => p.Y)], Blue, markers: points.Count <= 120);
        foreach ((double percentile, double ms, string label) in new[] { (50.0, r.LatencyP50Ms, "p50"), (99.0, r.LatencyP99Ms, "p99"), (99.9, r.LatencyP999Ms, "p99.9") })
        {
            if (r.Distribution.Count == 0 || Nines(percentile) >= ninesMax) continue;
            Annotate(plot, Nines(percentile), ms, $"{label} {MarkdownReport.Ms(ms)}");
        }
        if (r.Distribution.Count > 0) Annotate(plot, ninesMax, r.LatencyMaxMs, $"max {MarkdownReport.Ms(r.LatencyMaxMs)}");
        return Svg(plot, PercentileChartId);
    }

    /// <summary>Offered and achieved commands per second over the run, p99 per second on the right axis.</summary>
    public static string ThroughputChart(LoadTestReport report)
    {
        LoadTestResult r = report.Result;
        var plot = NewPlot("Throughput over time", "seconds since start", "commands / s");
        plot.Axes.Right.Label.Text = "p99 latency (ms)";
        int seconds = Math.Max(1, r.Timeline.Count);
        double rateMax = r.Timeline.Count == 0 ? 1 : r.Timeline.Max(t => Math.Max(t.Offered, t.Completed)) * 1.1;
        double p99Max = r.Timeline.Count == 0 ? 1 : r.Timeline.Max(t => t.P99Ms) * 1.1;
        if (report.Options.WarmupSeconds > 0)
        {
            var band = plot.Add.VerticalSpan(0, Math.Min(report.Options.WarmupSeconds, seconds), ScottPlot.Color.FromHex(Grey).WithAlpha(0.15));
            band.LegendText = "warm-up";
        }
        double[] xs = [.. r.Timeline.Select(t => t.Second + 0.5)];
        bool markers = seconds <= 60;
        Series(plot, "offered", xs, [.. r.Timeline.Select(t => (double)t.Offered)], Blue, markers);
        Series(plot, "achieved", xs, [.. r.Timeline.Select(t => (double)t.Completed)], Green, markers);
        if (r.Timeline.Any(t => t.Errors > 0)) Series(plot, "errors", xs, [.. r.Timeline.Select(t => (double)t.Errors)], Red, markers);
        var p99 = Series(plot, "p99 (right axis)", xs, [.. r.Timeline.Select(t => t.P99Ms)], Orange, markers: false);
        p99.LinePattern = ScottPlot.LinePattern.Dashed;
        p99.Axes.YAxis = plot.Axes.Right;
        plot.Axes.SetLimits(0, seconds, 0, Math.Max(rateMax, 1));
        plot.Axes.SetLimitsY(0, Math.Max(p99Max, 0.001), plot.Axes.Right);
        return Svg(plot, ThroughputChartId);
    }

    // Charts are drawn by ScottPlot (a maintained plotting library) as SVG, inlined so the page stays self-contained.
    private static ScottPlot.Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new ScottPlot.Plot();
        plot.Font.Set(ScottPlot.Fonts.Sans);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        return plot;
    }

    private static ScottPlot.Plottables.Scatter Series(ScottPlot.Plot plot, string label, double[] xs, double[] ys, string color, bool markers)
    {
        var series = plot.Add.ScatterLine(xs, ys, ScottPlot.Color.FromHex(color));
        series.LegendText = label;
        series.LineWidth = 2;
        series.MarkerSize = markers ? 4 : 0;
        return series;
    }

    private static void Annotate(ScottPlot.Plot plot, double x, double y, string text)
    {
        var label = plot.Add.Text(text, x, y);
        label.LabelFontColor = ScottPlot.Color.FromHex(Orange);
        label.LabelBold = true;
        label.LabelFontSize = 12;
    }

    private static string Svg(ScottPlot.Plot plot, string id)
    {
        string svg = plot.GetSvgXml(ChartWidth, ChartHeight);
        int open = svg.IndexOf("<svg", StringComparison.Ordinal);
        return svg[open..].Insert(4, $" id=\"{id}\"");
    }

    /// <summary>How many nines a percentile has: 90 → 1, 99 → 2, 99.9 → 3.</summary>
    public static double Nines(double percentile) => -Math.Log10(Math.Max(1e-12, 1 - percentile / 100));

    /// <summary>The percentile at n nines: 0 → "0%", 1 → "90%", 2 → "99%", 3 → "99.9%".</summary>
    public static string NinesLabel(int nines) => nines switch
    {
        0 => "0%",
        1 => "90%",
        2 => "99%",
        _ => "99." + new string('9', nines - 2) + "%",
    };

    private static void Card(StringBuilder html, string label, string value) =>
        html.Append($"<div class=\"card\"><div class=\"label\">{E(label)}</div><div class=\"value\">{E(value)}</div></div>\n");

    private static void Row(StringBuilder html, string label, long count, string? cssClass = null) =>
        html.Append(I($"<tr{(cssClass is null ? "" : $" class=\"{cssClass}\"")}><td>{E(label)}</td><td class=\"num\">{count:N0}</td></tr>\n"));

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private const string Css = """
        body { margin: 0; background: #f3f4f6; color: #111827; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
        main { max-width: 960px; margin: 0 auto; padding: 24px 28px 40px; background: #fff; }
        h1 { margin: 0; font-size: 26px; } h2 { margin: 28px 0 8px; font-size: 18px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
        .subtitle { margin: 2px 0 0; font-size: 16px; color: #374151; } .meta, .note, footer { color: #6b7280; font-size: 12.5px; }
        .command { background: #111827; color: #e5e7eb; padding: 8px 12px; border-radius: 6px; white-space: pre-wrap; word-break: break-all; font-size: 12.5px; }
        .verdict { display: inline-block; padding: 3px 10px; border-radius: 12px; font-weight: 600; }
        .verdict.pass { background: #dcfce7; color: #166534; } .verdict.fail { background: #fee2e2; color: #991b1b; }
        .cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
        .card { flex: 1 1 100px; border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px; }
        .card .label { color: #6b7280; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; } .card .value { font-size: 19px; font-weight: 600; }
        figure { margin: 0; overflow-x: auto; } svg { max-width: 100%; height: auto; font-family: system-ui, sans-serif; }
        svg .grid { stroke: #e5e7eb; stroke-width: 1; } svg .axis { stroke: #9ca3af; } svg .frame { fill: none; stroke: #9ca3af; }
        svg .tick { font-size: 11.5px; fill: #4b5563; } svg .axis-label { font-size: 12.5px; fill: #374151; }
        svg .chart-title { font-size: 15px; font-weight: 600; fill: #111827; } svg .legend { font-size: 12px; fill: #374151; }
        svg .band { fill: #f3f4f6; } svg .band-label { font-size: 11px; fill: #9ca3af; } svg .annotation { font-size: 11.5px; fill: #9a3412; font-weight: 600; }
        table { border-collapse: collapse; margin: 6px 0; min-width: 320px; } th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid #f3f4f6; }
        th { color: #6b7280; font-weight: 600; font-size: 12.5px; } .num { text-align: right; font-variant-numeric: tabular-nums; } tr.error td { color: #b91c1c; }
        .columns { display: flex; flex-wrap: wrap; gap: 32px; } code { font-size: 12.5px; }
        """;
}
