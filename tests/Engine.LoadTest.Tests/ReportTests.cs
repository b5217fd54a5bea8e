using System.Text.Json;
using Engine.LoadTest;
using Engine.LoadTest.Reports;

namespace Engine.LoadTest.Tests;

/// <summary>The three outputs of a run: JSON with the fields README names, a Markdown table, and an offline HTML page with two SVG charts.</summary>
public sealed class ReportTests
{
    [Fact]
    public void Html_report_is_self_contained_and_draws_the_percentile_and_throughput_charts_as_inline_svg()
    {
        string html = HtmlReport.Write(SampleReport());

        Assert.Contains($"<svg id=\"{HtmlReport.PercentileChartId}\"", html);
        Assert.Contains($"<svg id=\"{HtmlReport.ThroughputChartId}\"", html);
        // Nothing fetched: this machine (and a reader's) may be offline.
        foreach (string external in new[] { "<script", "src=", "<link", "@import", "href=\"http" })
            Assert.DoesNotContain(external, html);
        // The charts' clip paths refer to their own elements (url(#…)); nothing else is referenced.
        Assert.All(System.Text.RegularExpressions.Regex.Matches(html, @"url\((.)").Select(m => m.Groups[1].Value), first => Assert.Equal("#", first));
        // The percentile axis counts nines, and the throughput chart shows offered, achieved and p99 with a legend.
        var texts = System.Text.RegularExpressions.Regex.Matches(html, @"<text[^>]*>\s*([^<]*?)\s*</text>").Select(m => m.Groups[1].Value).ToHashSet();
        foreach (string label in new[] { "90%", "99%", "99.9%", "offered", "achieved", "p99 (right axis)", "warm-up", "Latency by percentile", "Throughput over time" })
            Assert.Contains(label, texts);
    }

    [Theory]
    [InlineData(0, "0%")]
    [InlineData(1, "90%")]
    [InlineData(2, "99%")]
    [InlineData(3, "99.9%")]
    [InlineData(5, "99.999%")]
    public void The_percentile_axis_is_labelled_in_nines(int nines, string label)
    {
        Assert.Equal(label, HtmlReport.NinesLabel(nines));
        if (nines > 0) Assert.Equal(nines, HtmlReport.Nines(double.Parse(label.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture)), 6);
    }

    [Fact]
    public void Json_report_has_the_fields_readme_names()
    {
        using JsonDocument json = JsonDocument.Parse(JsonReport.Write(SampleReport()));
        foreach (string field in new[]
                 {
                     "offered_per_second", "achieved_per_second", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_p999_ms",
                     "latency_max_ms", "errors", "errors_by_status", "requests", "approvals", "declines", "declines_by_status", "config",
                     "date_utc", "machine_cores", "machine_os", "timeline", "percentiles", "passed",
                 })
        {
            Assert.True(json.RootElement.TryGetProperty(field, out _), $"missing {field}");
        }
        Assert.Equal(3.2, json.RootElement.GetProperty("latency_p99_ms").GetDouble());
        Assert.Equal(1, json.RootElement.GetProperty("declines_by_status").GetProperty("STATUS_INSUFFICIENT_CREDIT (51)").GetInt64());
    }

    [Fact]
    public void Reports_go_next_to_the_json_with_md_and_html_extensions()
    {
        string directory = Directory.CreateTempSubdirectory("engine-loadtest-report-").FullName;
        try
        {
            var paths = ReportFiles.Write(Path.Combine(directory, "nested", "run.json"), SampleReport());
            Assert.Equal(Path.Combine(directory, "nested", "run.md"), paths.Markdown);
            Assert.Equal(Path.Combine(directory, "nested", "run.html"), paths.Html);
            Assert.All(new[] { paths.Json, paths.Markdown, paths.Html }, path => Assert.True(File.Exists(path), path));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_threshold_is_broken_only_when_the_measure_is_above_it_and_the_message_names_the_flag()
    {
        LoadTestResult result = SampleReport().Result;
        Assert.Empty(Thresholds.Broken(new LoadTestOptions { MaxP99Ms = 3.2, MaxErrorRate = 0.01 }, result));
        IReadOnlyList<string> broken = Thresholds.Broken(new LoadTestOptions { MaxP99Ms = 3, MaxErrorRate = 0.0001 }, result);
        Assert.Equal(2, broken.Count);
        Assert.Contains("--max-p99-ms", broken[0]);
        Assert.Contains("--max-error-rate", broken[1]);
    }

    private static LoadTestReport SampleReport()
    {
        var result = new LoadTestResult
        {
            MeasuredSeconds = 3,
            OfferedPerSecond = 1000,
            AchievedPerSecond = 998,
            Requests = 3000,
            Sent = 3000,
            Replies = 2999,
            Approvals = 2998,
            Declines = 1,
            Errors = 1,
            DeclinesByStatus = new Dictionary<string, long> { ["STATUS_INSUFFICIENT_CREDIT (51)"] = 1 },
            ErrorsByStatus = new Dictionary<string, long> { ["RESOURCE_EXHAUSTED"] = 1 },
            CommandsByKind = new Dictionary<string, long> { ["authorize"] = 3500, ["repay"] = 500 },
            LatencyP50Ms = 0.9,
            LatencyP90Ms = 1.8,
            LatencyP99Ms = 3.2,
            LatencyP999Ms = 7.5,
            LatencyP9999Ms = 9.1,
            LatencyMaxMs = 9.1,
            LatencyMeanMs = 1.1,
            PeakInFlight = 12,
            Distribution = [new(0, 0.2), new(50, 0.9), new(90, 1.8), new(99, 3.2), new(99.9, 7.5), new(100, 9.1)],
            Timeline = [.. Enumerable.Range(0, 4).Select(s => new TimelineSecond(s, s < 1, 1000, 990 + s, s == 2 ? 1 : 0, 2 + s))],
            EndedEarly = false,
        };
        return new LoadTestReport(new LoadTestOptions { Seconds = 3, WarmupSeconds = 1 }, result, [], "dotnet run -- --rate 1000", "lt-test", new DateTime(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc), null);
    }
}
