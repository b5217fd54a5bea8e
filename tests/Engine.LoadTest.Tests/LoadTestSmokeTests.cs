using System.Text.Json;
using Engine.LoadTest;
using Engine.LoadTest.Reports;

namespace Engine.LoadTest.Tests;

/// <summary>
/// The load generator end to end against a real engine server on loopback, at tiny rates for a few seconds each:
/// open-loop unary, closed-loop unary, Execute batches (open and closed loop), and a broken threshold.
/// </summary>
public sealed class LoadTestSmokeTests(EngineServerFixture engine) : IClassFixture<EngineServerFixture>, IDisposable
{
    private const int Accounts = EngineServerFixture.Accounts;
    private readonly string _directory = Directory.CreateTempSubdirectory("engine-loadtest-tests-").FullName;

    [Fact]
    public async Task Open_loop_unary_run_achieves_its_offered_rate_with_no_errors_and_writes_json_md_and_html_side_by_side()
    {
        (int exit, JsonElement json, string output, string paths) = await RunAsync("open-unary", "--rate", "200", "--seconds", "3", "--warmup-seconds", "1");

        Assert.True(exit == LoadTestApp.ExitPassed, output);
        AssertHealthyRun(json, offeredPerSecond: 200);
        Assert.Equal(600, json.GetProperty("requests").GetInt64());
        Assert.Equal("open-loop", json.GetProperty("config").GetProperty("mode").GetString());
        Assert.Equal("unary", json.GetProperty("config").GetProperty("api").GetString());
        Assert.True(output.Contains("[   1s] offered"), output); // the progress line

        var (_, markdown, html) = ReportFiles.PathsFor(paths);
        Assert.Contains("| offered/s | achieved/s |", File.ReadAllText(markdown));
        string page = File.ReadAllText(html);
        Assert.Contains($"<svg id=\"{HtmlReport.PercentileChartId}\"", page);
        Assert.Contains($"<svg id=\"{HtmlReport.ThroughputChartId}\"", page);
        Assert.DoesNotContain("<script", page);
    }

    [Fact]
    public async Task Closed_loop_unary_run_keeps_at_most_concurrency_requests_outstanding_with_no_errors()
    {
        (int exit, JsonElement json, string output, _) = await RunAsync("closed-unary", "--concurrency", "4", "--seconds", "2", "--warmup-seconds", "1");

        Assert.True(exit == LoadTestApp.ExitPassed, output);
        AssertHealthyRun(json, offeredPerSecond: null);
        Assert.Equal("closed-loop", json.GetProperty("config").GetProperty("mode").GetString());
        Assert.InRange(json.GetProperty("peak_in_flight").GetInt32(), 1, 4);
    }

    [Fact]
    public async Task Execute_batch_open_loop_run_sends_rate_over_batch_batches_per_second_with_no_errors()
    {
        (int exit, JsonElement json, string output, _) = await RunAsync("open-execute", "--execute-batch", "50", "--rate", "1000", "--seconds", "2", "--warmup-seconds", "1");

        Assert.True(exit == LoadTestApp.ExitPassed, output);
        AssertHealthyRun(json, offeredPerSecond: 1000);
        Assert.Equal(2_000, json.GetProperty("requests").GetInt64()); // 40 batches of 50 in the 2 measured seconds
        Assert.Equal("execute", json.GetProperty("config").GetProperty("api").GetString());
        Assert.Equal(0, json.GetProperty("peak_in_flight").GetInt32() % 50);
    }

    [Fact]
    public async Task Execute_batch_closed_loop_run_keeps_concurrency_batches_in_flight_with_no_errors()
    {
        (int exit, JsonElement json, string output, _) = await RunAsync("closed-execute", "--execute-batch", "25", "--concurrency", "2", "--seconds", "2", "--warmup-seconds", "1");

        Assert.True(exit == LoadTestApp.ExitPassed, output);
        AssertHealthyRun(json, offeredPerSecond: null);
        Assert.InRange(json.GetProperty("peak_in_flight").GetInt32(), 25, 50);
    }

    [Fact]
    public async Task An_impossibly_small_max_p99_exits_1_and_says_which_threshold_broke()
    {
        var error = new StringWriter();
        (int exit, JsonElement json, string output, _) = await RunAsync("threshold", error, "--rate", "100", "--seconds", "1", "--warmup-seconds", "0", "--max-p99-ms", "0.0001");

        Assert.True(exit == LoadTestApp.ExitThresholdBroken, output + error);
        Assert.Contains("--max-p99-ms", error.ToString());
        Assert.False(json.GetProperty("passed").GetBoolean());
        Assert.Contains("--max-p99-ms", json.GetProperty("thresholds_broken")[0].GetString());
    }

    private static void AssertHealthyRun(JsonElement json, double? offeredPerSecond)
    {
        double offered = json.GetProperty("offered_per_second").GetDouble();
        double achieved = json.GetProperty("achieved_per_second").GetDouble();
        if (offeredPerSecond is double expected) Assert.Equal(expected, offered, 3);
        Assert.True(offered > 0, "nothing was offered");
        // Achieved counts the replies that arrived during the window, so a backlog from the warm-up or a stall at the
        // end moves it. The tolerance is wide because CI runs other test assemblies on the same two cores: this checks
        // the accounting, not the machine's speed.
        Assert.True(Math.Abs(achieved - offered) <= 0.4 * offered, $"achieved {achieved}/s vs offered {offered}/s");
        Assert.Equal(0, json.GetProperty("errors").GetInt64());
        Assert.Empty(json.GetProperty("errors_by_status").EnumerateObject());
        long replies = json.GetProperty("replies").GetInt64();
        Assert.Equal(json.GetProperty("requests").GetInt64(), replies);
        Assert.Equal(replies, json.GetProperty("approvals").GetInt64() + json.GetProperty("declines").GetInt64());
        double p50 = json.GetProperty("latency_p50_ms").GetDouble();
        double p90 = json.GetProperty("latency_p90_ms").GetDouble();
        double p99 = json.GetProperty("latency_p99_ms").GetDouble();
        double p999 = json.GetProperty("latency_p999_ms").GetDouble();
        double max = json.GetProperty("latency_max_ms").GetDouble();
        Assert.True(0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max, $"percentiles out of order: {p50} {p90} {p99} {p999} {max}");
        JsonElement setup = json.GetProperty("setup");
        Assert.Equal(Accounts, setup.GetProperty("accounts_opened").GetInt32() + setup.GetProperty("accounts_existing").GetInt32());
        Assert.True(json.GetProperty("timeline").GetArrayLength() >= 3);
        Assert.True(json.GetProperty("percentiles").GetArrayLength() > 3);
        Assert.Equal(Environment.ProcessorCount, json.GetProperty("machine_cores").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("date_utc").GetString()));
    }

    private Task<(int Exit, JsonElement Json, string Output, string JsonPath)> RunAsync(string name, params string[] args) => RunAsync(name, new StringWriter(), args);

    private async Task<(int Exit, JsonElement Json, string Output, string JsonPath)> RunAsync(string name, StringWriter error, params string[] args)
    {
        string jsonPath = Path.Combine(_directory, name + ".json");
        var output = new StringWriter();
        string[] all = [.. args, "--target", engine.Server.Address, "--accounts", Accounts.ToString(), "--json", jsonPath, "--timeout-ms", "10000"];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int exit = await LoadTestApp.RunAsync(all, output, error, timeout.Token);
        Assert.True(File.Exists(jsonPath), $"no JSON (exit {exit}):\n{output}\n{error}");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(jsonPath));
        return (exit, document.RootElement.Clone(), output + "\n" + error, jsonPath);
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } // best effort
    }
}
