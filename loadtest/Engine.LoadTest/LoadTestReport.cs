using System.Globalization;
using System.Runtime.InteropServices;

namespace Engine.LoadTest;

/// <summary>Everything the report writers print: what was asked (options, command line), where, when, and what was measured.</summary>
public sealed record LoadTestReport(
    LoadTestOptions Options,
    LoadTestResult Result,
    IReadOnlyList<string> BrokenThresholds,
    string CommandLine,
    string RunId,
    DateTime DateUtc,
    AccountSetup.Outcome? Setup)
{
    public int MachineCores { get; init; } = Environment.ProcessorCount;
    public string MachineOs { get; init; } = RuntimeInformation.OSDescription;
    public string Runtime { get; init; } = RuntimeInformation.FrameworkDescription;
    public bool Passed => BrokenThresholds.Count == 0;

    /// <summary>A one-line description: "open loop, unary, 20,000 commands/s, 30 s".</summary>
    public string Title
    {
        get
        {
            LoadTestOptions o = Options;
            string api = o.ExecuteBatchSize > 0 ? $"Execute batches of {o.ExecuteBatchSize:N0}" : "unary calls";
            string pace = o.Mode == LoadMode.OpenLoop
                ? string.Create(CultureInfo.InvariantCulture, $"open loop at {o.RatePerSecond:N0} commands/s")
                : string.Create(CultureInfo.InvariantCulture, $"closed loop, {o.Concurrency:N0} {(o.ExecuteBatchSize > 0 ? "batches" : "requests")} in flight");
            return string.Create(CultureInfo.InvariantCulture, $"{pace}, {api}, {o.Seconds} s measured after {o.WarmupSeconds} s warm-up");
        }
    }

    /// <summary>The configuration as flag → value, in the order the usage text lists them.</summary>
    public IReadOnlyList<(string Flag, string Value)> Configuration
    {
        get
        {
            LoadTestOptions o = Options;
            var rows = new List<(string, string)> { ("--target", o.Target.ToString()) };
            if (o.Mode == LoadMode.OpenLoop) rows.Add(("--rate", Number(o.RatePerSecond)));
            else rows.Add(("--concurrency", Number(o.Concurrency)));
            rows.Add(("--execute-batch", o.ExecuteBatchSize == 0 ? "(unary)" : Number(o.ExecuteBatchSize)));
            if (o.ExecuteBatchSize > 0) rows.Add(("--streams", Number(o.ExecuteStreams)));
            rows.Add(("--connections", Number(o.Connections)));
            rows.Add(("--seconds", Number(o.Seconds)));
            rows.Add(("--warmup-seconds", Number(o.WarmupSeconds)));
            rows.Add(("--max-requests", Number(o.MaxRequests)));
            rows.Add(("--max-in-flight", Number(o.MaxInFlight)));
            rows.Add(("--timeout-ms", Number(o.TimeoutMs)));
            rows.Add(("--mix", o.Mix.ToString()));
            rows.Add(("--accounts", Number(o.Accounts)));
            rows.Add(("--zipf", o.ZipfExponent.ToString(CultureInfo.InvariantCulture)));
            rows.Add(("--amount-min / --amount-max", $"{Number(o.AmountMinMinor)} .. {Number(o.AmountMaxMinor)}"));
            rows.Add(("--credit-limit", Number(o.CreditLimitMinor)));
            rows.Add(("--seed", o.Seed.ToString(CultureInfo.InvariantCulture)));
            if (o.MaxP99Ms is double p99) rows.Add(("--max-p99-ms", p99.ToString(CultureInfo.InvariantCulture)));
            if (o.MaxErrorRate is double rate) rows.Add(("--max-error-rate", rate.ToString(CultureInfo.InvariantCulture)));
            return rows;
        }
    }

    public static string Number(double value) => value.ToString(value == Math.Floor(value) ? "N0" : "N2", CultureInfo.InvariantCulture);
}
