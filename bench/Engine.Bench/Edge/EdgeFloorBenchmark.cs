using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using Credit.V1;
using Engine.Bench.Peers;
using Engine.Client;
using Google.Protobuf;
using HdrHistogram;

namespace Engine.Bench.Edge;

/// <summary>
/// <c>edge-floor</c> (issue #12 item 1): the server CPU one unary Authorize costs, for the engine's server and for the
/// stub floor (<see cref="StubServer"/>), at each number of calls in flight. The client is h2load (Debian's
/// <c>nghttp2-client</c>, installed when missing) sending one pre-encoded gRPC frame over and over — cheap enough that
/// most of the two cores are left to the server. Server CPU is user + system time from /proc over the measured run,
/// divided by the calls h2load completed; latency comes from h2load's per-request log, recorded into HdrHistogram.
/// <para>
/// One body means one request_id: on the engine every call after the first is an idempotent replay (validated,
/// keyed on the gRPC thread, looked up by the decide thread, answered after the journal's commit point, no new event).
/// That is the edge and ring path without the ledger work, the part of a call this benchmark is about. The check
/// after each run: the engine's account holds exactly one authorization's amount however many calls were made.
/// </para>
/// </summary>
internal static partial class EdgeFloorBenchmark
{
    private const string StubServerName = "stub";
    private const string EngineServerName = "engine";
    private const string AccountId = "edge-floor-account";
    private const string RequestId = "edge-floor-request";
    private const long AmountMinor = 1_000;
    private static readonly TimeSpan H2loadTimeoutSlack = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(BenchArgs args)
    {
        int seconds = args.Int("seconds", 10);
        int warmupSeconds = args.Int("warmup-seconds", 2);
        int connections = args.Int("connections", 4);
        string inFlightList = args.String("in-flight") ?? "40,400";
        string serverList = args.String("servers") ?? $"{StubServerName},{EngineServerName}";
        string? jsonPath = args.String("json");
        bool noInstall = args.Flag("no-install");
        args.RejectUnknown();
        if (seconds is < 1 or > 600) throw new ArgumentException("--seconds must be 1..600");
        if (warmupSeconds is < 0 or > 600) throw new ArgumentException("--warmup-seconds must be 0..600");
        if (connections is < 1 or > 64) throw new ArgumentException("--connections must be 1..64");
        int[] inFlights = inFlightList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(value => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && n <= 100_000
                ? n : throw new ArgumentException($"--in-flight: '{value}' is not a number of calls 1..100,000"))
            .ToArray();
        if (inFlights.Length == 0) throw new ArgumentException("--in-flight names no level");
        foreach (int inFlight in inFlights)
        {
            if (inFlight % connections != 0) throw new ArgumentException($"--in-flight {inFlight} must be a multiple of --connections {connections} (h2load runs the same number of streams on each connection)");
        }
        string[] servers = serverList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string server in servers)
        {
            if (server is not (StubServerName or EngineServerName)) throw new ArgumentException($"--servers: unknown server '{server}' (known: {StubServerName}, {EngineServerName})");
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        CancellationToken ct = cancel.Token;
        await PeerPackages.EnsureInstalledAsync("nghttp2-client", () => FindH2load() is not null, !noInstall, ct).ConfigureAwait(false);
        string h2load = FindH2load()!;

        string work = Path.Combine(Path.GetTempPath(), $"engine-edge-floor-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        string bodyPath = Path.Combine(work, "authorize.grpc");
        await File.WriteAllBytesAsync(bodyPath, GrpcFrame(new AuthorizeRequest { RequestId = RequestId, AccountId = AccountId, Amount = AmountMinor, Currency = EngineWork.Currency }), ct).ConfigureAwait(false);
        Console.WriteLine($"edge-floor: servers={string.Join(',', servers)} in-flight={string.Join(',', inFlights)} connections={connections} seconds={seconds} warmup-seconds={warmupSeconds} client={h2load}");

        var rows = new List<Dictionary<string, object?>>();
        bool passed = true;
        string loadBefore = LoadAverage();
        try
        {
            foreach (string server in servers)
            {
                await using EngineServerProcess process = server == StubServerName
                    ? await EngineServerProcess.StartStubAsync(ct).ConfigureAwait(false)
                    : await EngineServerProcess.StartAsync("child", ct).ConfigureAwait(false);
                using var client = new CreditEngineClient(process.Address, new CreditEngineClientOptions { DefaultDeadline = TimeSpan.FromSeconds(30) });
                if (server == EngineServerName) await PrepareEngineAsync(client, ct).ConfigureAwait(false);
                foreach (int inFlight in inFlights)
                {
                    string url = $"{process.Address}/credit.v1.AuthorizationService/Authorize";
                    if (warmupSeconds > 0)
                        await RunH2loadAsync(h2load, url, bodyPath, connections, inFlight, warmupSeconds, logFile: null, ct).ConfigureAwait(false);
                    string logFile = Path.Combine(work, $"{server}-{inFlight}.log");
                    Dictionary<int, double> cpuBefore = ProcessCpu.Snapshot([process.ProcessId!.Value]);
                    H2loadResult result = await RunH2loadAsync(h2load, url, bodyPath, connections, inFlight, seconds, logFile, ct).ConfigureAwait(false);
                    Dictionary<int, double> cpuAfter = ProcessCpu.Snapshot([process.ProcessId!.Value]);
                    double cpuSeconds = ProcessCpu.Used(cpuBefore, cpuAfter);
                    LongHistogram latency = ReadLatencies(logFile, out long logged, out long not200);
                    string check = await CheckAsync(server, client, ct).ConfigureAwait(false);
                    bool rowPassed = check.Length == 0 && result.Failed == 0 && result.Errored == 0 && not200 == 0 && result.Succeeded > 0;
                    passed &= rowPassed;
                    double cpuUsPerCall = result.Succeeded > 0 ? Math.Round(cpuSeconds * 1e6 / result.Succeeded, 1) : 0;
                    var row = new Dictionary<string, object?>
                    {
                        ["server"] = server,
                        ["in_flight"] = inFlight,
                        ["connections"] = connections,
                        ["streams_per_connection"] = inFlight / connections,
                        ["calls"] = result.Succeeded,
                        ["failed"] = result.Failed + result.Errored,
                        ["non_200"] = not200,
                        ["calls_per_second"] = Math.Round(result.RequestsPerSecond),
                        ["server_cpu_seconds"] = Math.Round(cpuSeconds, 2),
                        ["server_cpu_us_per_call"] = cpuUsPerCall,
                        ["server_cores_busy"] = Math.Round(cpuSeconds / result.Seconds, 2),
                        ["latency_p50_us"] = latency.GetValueAtPercentile(50),
                        ["latency_p90_us"] = latency.GetValueAtPercentile(90),
                        ["latency_p99_us"] = latency.GetValueAtPercentile(99),
                        ["latency_p999_us"] = latency.GetValueAtPercentile(99.9),
                        ["latency_max_us"] = latency.GetMaxValue(),
                        ["latency_samples"] = logged,
                        ["check"] = check.Length == 0 ? "passed" : check,
                    };
                    rows.Add(row);
                    Console.WriteLine($"  {server,-6} in-flight={inFlight,-5} {result.RequestsPerSecond,10:F0} calls/s  server CPU {cpuUsPerCall,6:F1} µs/call  ({cpuSeconds / result.Seconds:F2} cores)  " +
                                      $"p50={latency.GetValueAtPercentile(50)} p99={latency.GetValueAtPercentile(99)} p99.9={latency.GetValueAtPercentile(99.9)} max={latency.GetMaxValue()} µs  {(rowPassed ? "ok" : "FAILED: " + check)}");
                }
            }
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } // best effort
        }

        var ratios = new List<Dictionary<string, object?>>();
        foreach (int inFlight in inFlights)
        {
            Dictionary<string, object?>? stub = rows.Find(r => (string)r["server"]! == StubServerName && (int)r["in_flight"]! == inFlight);
            Dictionary<string, object?>? engine = rows.Find(r => (string)r["server"]! == EngineServerName && (int)r["in_flight"]! == inFlight);
            if (stub is null || engine is null) continue;
            double stubCpu = (double)stub["server_cpu_us_per_call"]!, engineCpu = (double)engine["server_cpu_us_per_call"]!;
            ratios.Add(new Dictionary<string, object?>
            {
                ["in_flight"] = inFlight,
                ["engine_over_stub_cpu_us_per_call"] = Math.Round(engineCpu - stubCpu, 1),
                ["engine_to_stub_cpu_ratio"] = stubCpu > 0 ? Math.Round(engineCpu / stubCpu, 2) : null,
                ["engine_to_stub_throughput_ratio"] = (double)stub["calls_per_second"]! > 0 ? Math.Round((double)engine["calls_per_second"]! / (double)stub["calls_per_second"]!, 2) : null,
            });
            Console.WriteLine($"  in-flight={inFlight}: the engine's server costs {engineCpu - stubCpu:F1} µs/call more than the stub ({engineCpu:F1} vs {stubCpu:F1})");
        }

        Dictionary<string, object?> report = BenchReport.Machine();
        report["benchmark"] = "edge-floor";
        report["command"] = "dotnet run -c Release --project bench/Engine.Bench -- edge-floor " +
                            $"--seconds {seconds} --warmup-seconds {warmupSeconds} --connections {connections} --in-flight {inFlightList} --servers {serverList}";
        report["client"] = "h2load, one pre-encoded Authorize frame (on the engine: replays of one request_id after the first call)";
        report["load_average_before"] = loadBefore;
        report["load_average_after"] = LoadAverage();
        report["passed"] = passed;
        report["rows"] = rows;
        report["engine_vs_stub"] = ratios;
        BenchReport.WriteJson(jsonPath, report);
        return passed ? 0 : 1;
    }

    /// <summary>Opens the account and makes the first (original) Authorize, which every h2load call then replays.</summary>
    private static async Task PrepareEngineAsync(CreditEngineClient client, CancellationToken ct)
    {
        OpenAccountResponse opened = await client.OpenAccountAsync(new OpenAccountRequest
        {
            RequestId = "edge-floor-open", AccountId = AccountId, CustomerId = "edge-floor-customer", Currency = EngineWork.Currency, CreditLimit = 1_000_000_000,
        }, ct: ct).ConfigureAwait(false);
        if (opened.Status != Credit.V1.Status.Ok) throw new InvalidOperationException($"OpenAccount answered {opened.Status}");
        AuthorizeResponse first = await client.AuthorizeAsync(new AuthorizeRequest { RequestId = RequestId, AccountId = AccountId, Amount = AmountMinor, Currency = EngineWork.Currency }, ct: ct).ConfigureAwait(false);
        if (!first.Approved) throw new InvalidOperationException($"the first Authorize answered {first.Status}");
    }

    /// <summary>After a run: the server still answers, and on the engine the replays changed nothing (one hold of one amount).</summary>
    private static async Task<string> CheckAsync(string server, CreditEngineClient client, CancellationToken ct)
    {
        AuthorizeResponse again = await client.AuthorizeAsync(new AuthorizeRequest { RequestId = RequestId, AccountId = AccountId, Amount = AmountMinor, Currency = EngineWork.Currency }, ct: ct).ConfigureAwait(false);
        if (!again.Approved) return $"Authorize after the run answered {again.Status}";
        if (server != EngineServerName) return "";
        if (!again.Replayed) return "Authorize after the run was not a replay";
        GetAccountResponse account = await client.GetAccountAsync(new GetAccountRequest { AccountId = AccountId, MinSequence = again.Sequence }, ct: ct).ConfigureAwait(false);
        return account.Account.Held == AmountMinor ? "" : $"held is {account.Account.Held}, not the one authorization's {AmountMinor}";
    }

    internal sealed record H2loadResult(long Succeeded, long Failed, long Errored, double Seconds, double RequestsPerSecond);

    private static async Task<H2loadResult> RunH2loadAsync(string h2load, string url, string bodyPath, int connections, int inFlight, int seconds, string? logFile, CancellationToken ct)
    {
        var arguments = new List<string>
        {
            "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-m", (inFlight / connections).ToString(CultureInfo.InvariantCulture),
            "-t", "1",
            "-D", seconds.ToString(CultureInfo.InvariantCulture),
            "-H", "content-type: application/grpc",
            "-H", "te: trailers",
            "-d", bodyPath,
        };
        if (logFile is not null) arguments.AddRange(["--log-file", logFile]);
        arguments.Add(url);
        string output = await ExternalProcess.RunCheckedAsync(h2load, arguments, TimeSpan.FromSeconds(seconds) + H2loadTimeoutSlack, ct).ConfigureAwait(false);
        return ParseH2load(output);
    }

    /// <summary>Reads h2load's summary ("requests: … succeeded, … failed, … errored" and "finished in Ns, R req/s").</summary>
    internal static H2loadResult ParseH2load(string output)
    {
        Match requests = RequestsLine().Match(output);
        Match finished = FinishedLine().Match(output);
        if (!requests.Success || !finished.Success) throw new InvalidOperationException("h2load printed no summary:\n" + output);
        return new H2loadResult(
            long.Parse(requests.Groups["succeeded"].Value, CultureInfo.InvariantCulture),
            long.Parse(requests.Groups["failed"].Value, CultureInfo.InvariantCulture),
            long.Parse(requests.Groups["errored"].Value, CultureInfo.InvariantCulture),
            ParseSeconds(finished.Groups["value"].Value, finished.Groups["unit"].Value),
            double.Parse(finished.Groups["rps"].Value, CultureInfo.InvariantCulture));
    }

    private static double ParseSeconds(string value, string unit)
    {
        double number = double.Parse(value, CultureInfo.InvariantCulture);
        return unit switch { "ms" => number / 1e3, "us" => number / 1e6, _ => number };
    }

    /// <summary>h2load's --log-file: tab-separated start (µs since the epoch), HTTP status, µs to the end of the response.</summary>
    internal static LongHistogram ReadLatencies(string logFile, out long logged, out long not200)
    {
        var histogram = new LongHistogram(60_000_000, 3);
        logged = 0;
        not200 = 0;
        foreach (string line in File.ReadLines(logFile))
        {
            string[] fields = line.Split('\t');
            if (fields.Length < 3) continue;
            logged++;
            if (fields[1] != "200") not200++;
            long micros = long.Parse(fields[2], CultureInfo.InvariantCulture);
            histogram.RecordValue(Math.Clamp(micros, 1, histogram.HighestTrackableValue));
        }
        return histogram;
    }

    /// <summary>The 5-byte gRPC message prefix (not compressed, big-endian length) and the message.</summary>
    internal static byte[] GrpcFrame(IMessage message)
    {
        byte[] body = message.ToByteArray();
        var frame = new byte[5 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1, 4), (uint)body.Length);
        body.CopyTo(frame, 5);
        return frame;
    }

    private static string? FindH2load() => new[] { "/usr/bin/h2load", "/usr/local/bin/h2load" }.FirstOrDefault(File.Exists);

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "";
        }
    }

    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, (?<succeeded>\d+) succeeded, (?<failed>\d+) failed, (?<errored>\d+) errored")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"finished in (?<value>[\d.]+)(?<unit>s|ms|us), (?<rps>[\d.]+) req/s")]
    private static partial Regex FinishedLine();
}
