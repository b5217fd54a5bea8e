using System.Globalization;
using Engine.Client;
using Engine.LoadTest.Reports;
using Grpc.Core;
using Grpc.Net.Client;

namespace Engine.LoadTest;

/// <summary>
/// The command: parse → check the target is loopback → open the accounts → run → report → thresholds.
/// Exit codes: <see cref="ExitPassed"/>, <see cref="ExitThresholdBroken"/>, <see cref="ExitUsage"/>, <see cref="ExitRunFailed"/>.
/// Tests call <see cref="RunAsync"/> in-process with their own writers.
/// </summary>
public static class LoadTestApp
{
    public const int ExitPassed = 0;
    public const int ExitThresholdBroken = 1;
    public const int ExitUsage = 2;
    public const int ExitRunFailed = 3;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct = default)
    {
        output = TextWriter.Synchronized(output);
        if (args.Any(a => a is "--help" or "-h"))
        {
            output.WriteLine(OptionsParser.Usage);
            return ExitPassed;
        }
        LoadTestOptions options;
        try
        {
            options = OptionsParser.Parse(args);
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            error.WriteLine("usage: Engine.LoadTest --target http://127.0.0.1:5000 (--rate N | --concurrency N) [--execute-batch N] [--seconds N] [--json PATH] ...; --help lists every flag");
            return ExitUsage;
        }

        string runId = Workload.NewRunId();
        string commandLine = "dotnet run -c Release --project loadtest/Engine.LoadTest -- " + string.Join(' ', args.Select(Quote));
        output.WriteLine($"loadtest {runId}: {options.Mode} {options.Api} against {options.Target}; {Describe(options)}");

        // One channel per connection: each GrpcChannel has its own handler, so its own HTTP/2 connection(s).
        var channels = new GrpcChannel[options.Connections];
        for (int c = 0; c < channels.Length; c++) channels[c] = CreditEngineClient.CreateChannel(options.Target.ToString(), new CreditEngineClientOptions { ApiKey = options.ApiKey });
        Credit.V1.PipelineService.PipelineServiceClient[] pipelines = [.. channels.Select(channel => new Credit.V1.PipelineService.PipelineServiceClient(channel))];
        AccountSetup.Outcome? setup = null;
        LoadTestResult result;
        try
        {
            if (!options.SkipSetup)
            {
                await using var setupTarget = new ExecuteStreamTarget(pipelines, 1);
                using var setupTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                setupTimeout.CancelAfter(TimeSpan.FromSeconds(60 + options.Accounts / 5_000));
                setup = await AccountSetup.OpenAccountsAsync(setupTarget, options, setupTimeout.Token).ConfigureAwait(false);
                output.WriteLine($"setup: {setup.Opened:N0} accounts opened, {setup.Existing:N0} already there ({setup.Elapsed.TotalSeconds:F1} s)");
            }
            ILoadTarget target = options.ExecuteBatchSize > 0
                ? new ExecuteStreamTarget(pipelines, options.ExecuteStreams)
                : new UnaryTarget(channels, TimeSpan.FromMilliseconds(options.TimeoutMs));
            await using (target.ConfigureAwait(false))
            {
                var runner = new LoadRunner(options, target, new Workload(options, runId), TimeProvider.System, output);
                result = await runner.RunAsync(ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or OperationCanceledException or HttpRequestException)
        {
            error.WriteLine($"error: the run could not happen against {options.Target}: {e.Message}");
            return ExitRunFailed;
        }
        finally
        {
            foreach (GrpcChannel channel in channels) channel.Dispose();
        }

        IReadOnlyList<string> broken = Thresholds.Broken(options, result);
        var report = new LoadTestReport(options, result, broken, commandLine, runId, DateTime.UtcNow, setup);
        PrintSummary(output, report);
        if (options.JsonPath is not null)
        {
            var paths = ReportFiles.Write(options.JsonPath, report);
            output.WriteLine($"wrote {paths.Json}, {paths.Markdown}, {paths.Html}");
        }
        foreach (string threshold in broken) error.WriteLine($"THRESHOLD BROKEN: {threshold}");
        return broken.Count == 0 ? ExitPassed : ExitThresholdBroken;
    }

    private static string Describe(LoadTestOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"{(o.Mode == LoadMode.OpenLoop ? $"rate {o.RatePerSecond:N0} commands/s" : $"concurrency {o.Concurrency}")}" +
        $"{(o.ExecuteBatchSize > 0 ? $", batches of {o.ExecuteBatchSize} on {o.ExecuteStreams} stream(s)" : "")} over {o.Connections} connection(s), " +
        $"{o.WarmupSeconds} s warm-up + {o.Seconds} s, accounts {o.Accounts:N0}, zipf {o.ZipfExponent}, mix {o.Mix}");

    private static void PrintSummary(TextWriter output, LoadTestReport report)
    {
        LoadTestResult r = report.Result;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"offered {r.OfferedPerSecond:N0}/s, achieved {r.AchievedPerSecond:N0}/s over {r.MeasuredSeconds:F1} s; requests {r.Requests:N0}: approved {r.Approvals:N0}, declined {r.Declines:N0}, errors {r.Errors:N0}; peak in flight {r.PeakInFlight:N0}; client CPU {r.ClientCpuUsPerCommand:F1} µs/command"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"latency (ms, from intended send): p50 {r.LatencyP50Ms:F3} p90 {r.LatencyP90Ms:F3} p99 {r.LatencyP99Ms:F3} p99.9 {r.LatencyP999Ms:F3} max {r.LatencyMaxMs:F3}"));
        foreach ((string status, long count) in r.DeclinesByStatus) output.WriteLine($"  declined {status}: {count:N0}");
        foreach ((string status, long count) in r.ErrorsByStatus) output.WriteLine($"  error {status}: {count:N0}");
    }

    private static string Quote(string argument) => argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) || "-_=.,:/@+".Contains(c)) ? argument : $"'{argument}'";
}
