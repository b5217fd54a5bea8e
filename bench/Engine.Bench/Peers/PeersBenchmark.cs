using System.Diagnostics;
using System.Runtime.InteropServices;
using HdrHistogram;

namespace Engine.Bench.Peers;

/// <summary>
/// The <c>peers</c> verb: the same durable authorize workload against the engine (in-process and over gRPC),
/// PostgreSQL and Redis, one system after the other on the same machine, then a table, the ratios and a JSON file.
/// Each system's state is read back and compared with the amounts the harness saw approved; a mismatch, an error or a
/// system that is not verifiably durable makes the run fail (exit code 1).
/// <para>Back of the envelope (2 cores, fsync ≈ 0.35 ms): a system that fsyncs once per authorization is capped near
/// 3k/s; group commit lifts the cap to (requests per fsync) × 3k/s, so with 256 clients the fsync is not the limit for
/// anyone and CPU per authorization decides: PostgreSQL spends tens of µs (protocol, executor, WAL insert, a backend
/// context switch per statement), Redis ~10–20 µs (protocol, Lua, AOF write), the engine ~2 µs of decide work plus,
/// over gRPC, the HTTP/2 and protobuf cost per call, which on 2 cores dominates.</para>
/// </summary>
internal static class PeersBenchmark
{
    /// <summary>Stopping a system: its engine's or server's own shutdown (bounded at 60 s each), the file clean-up, then some.</summary>
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(150);

    public const string CommandPrefix = "dotnet run -c Release --project bench/Engine.Bench -- peers";

    public static async Task<int> RunAsync(BenchArgs args, string[] rawArguments)
    {
        PeersOptions options = PeersOptions.Parse(args, $"{CommandPrefix} {string.Join(' ', rawArguments)}".Trim());
        using var cancel = new CancellationTokenSource();
        // Ctrl+C / SIGTERM cancel the run instead of ending the process, so the finally blocks stop the servers it started.
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        PeersReport report = await RunAsync(options, cancel.Token).ConfigureAwait(false);
        return report.Passed ? 0 : 1;

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            Console.Error.WriteLine("stopping: cancelling the run and shutting down the servers it started");
            cancel.Cancel();
        }
    }

    public static async Task<PeersReport> RunAsync(PeersOptions options, CancellationToken ct)
    {
        Console.WriteLine($"peers: systems={string.Join(',', options.Systems)} seconds={options.Seconds} warmup-seconds={options.WarmupSeconds} clients={options.Clients} " +
                          $"accounts={options.Accounts} credit-limit={options.CreditLimitMinor} seed={options.Seed} max-requests={options.MaxRequests} pg-pool={options.PostgresPoolSize} grpc-server={options.GrpcServerMode}");
        var workload = new AuthorizeWorkload(options.Seed, options.Accounts);
        string loadBefore = LoadAverage();
        DateTime startedUtc = DateTime.UtcNow;
        var rows = new List<PeerRow>();
        var run = Stopwatch.StartNew();
        foreach (string name in options.Systems)
        {
            rows.Add(await RunSystemAsync(name, workload, options, run, ct).ConfigureAwait(false));
            // Garbage of one system's run should not be collected during the next one's.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
        var report = new PeersReport(rows, PeersReport.ComputeRatios(rows));
        report.Print(Console.Out);
        BenchReport.WriteJson(options.JsonPath, ToJson(report, options, startedUtc, loadBefore, LoadAverage()));
        return report;
    }

    private static IAuthorizeSystem Create(string name) => name switch
    {
        PeersOptions.EngineInProcess => new EngineInProcessSystem(),
        PeersOptions.EngineGrpc => new EngineGrpcSystem(EngineGrpcSystem.Mode.Unary),
        PeersOptions.EngineGrpcExecute => new EngineGrpcSystem(EngineGrpcSystem.Mode.Execute),
        PeersOptions.EngineSdk => new EngineGrpcSystem(EngineGrpcSystem.Mode.Sdk),
        PeersOptions.GrpcStub => new EngineGrpcSystem(EngineGrpcSystem.Mode.Stub),
        PeersOptions.PostgreSql => new PostgresSystem(),
        PeersOptions.Redis => new RedisSystem(),
        _ => throw new ArgumentException($"unknown system '{name}'"),
    };

    /// <summary>One system's start, measured run, read-back and stop; each stage's progress line says when it ended
    /// (seconds since the run began), so that a slow or stuck stage is visible in the output.</summary>
    private static async Task<PeerRow> RunSystemAsync(string name, AuthorizeWorkload workload, PeersOptions options, Stopwatch run, CancellationToken ct)
    {
        Console.WriteLine($"== {name} (run t={run.Elapsed.TotalSeconds:F1}s)");
        DriverResult? result = null;
        long? heldTotal = null;
        string? failure = null;
        IAuthorizeSystem system = Create(name);
        try
        {
            await system.StartAsync(workload, options, ct).ConfigureAwait(false);
            Console.WriteLine($"  {name}: started (run t={run.Elapsed.TotalSeconds:F1}s)");
            result = await ClosedLoopDriver.RunAsync(system, workload, options, ct).ConfigureAwait(false);
            heldTotal = await system.ReadTotalHeldAsync(ct).ConfigureAwait(false);
            Console.WriteLine($"  {name}: measured and read back (run t={run.Elapsed.TotalSeconds:F1}s)");
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            failure = $"{name}: {e.GetType().Name}: {e.Message}";
            Console.Error.WriteLine($"{name} failed: {e}");
        }
        finally
        {
            // Stops every server the system started and deletes its files, whatever happened above; bounded, so a
            // system that does not stop is reported and the run goes on (its processes are the caller's to end).
            try
            {
                await system.DisposeAsync().AsTask().WaitAsync(DisposeTimeout).ConfigureAwait(false);
                Console.WriteLine($"  {name}: stopped (run t={run.Elapsed.TotalSeconds:F1}s)");
            }
            catch (TimeoutException)
            {
                failure ??= $"{name}: did not stop within {DisposeTimeout.TotalSeconds:F0} s";
                Console.Error.WriteLine($"{name} did not stop within {DisposeTimeout.TotalSeconds:F0} s; going on without it");
            }
        }
        PeerRow row = ToRow(system, result, heldTotal, failure, options);
        Console.WriteLine($"{name}: {row.PerSecond:F0}/s p50={row.LatencyP50Ms:F2} ms p99={row.LatencyP99Ms:F2} ms; approved {row.ApprovedAmountTotalMinor} minor, read back held {row.HeldTotalMinor?.ToString() ?? "-"}");
        return row;
    }

    private static PeerRow ToRow(IAuthorizeSystem system, DriverResult? result, long? heldTotal, string? failure, PeersOptions options)
    {
        static double Ms(long us) => Math.Round(us / 1000.0, 3);
        bool measured = result is not null && result.LatencyUs.TotalCount > 0;
        return new PeerRow
        {
            Name = system.Name,
            Durable = system.Durable,
            PerSecond = result?.PerSecond ?? 0,
            LatencyP50Ms = measured ? Ms(result!.LatencyUs.GetValueAtPercentile(50)) : 0,
            LatencyP99Ms = measured ? Ms(result!.LatencyUs.GetValueAtPercentile(99)) : 0,
            LatencyP999Ms = measured ? Ms(result!.LatencyUs.GetValueAtPercentile(99.9)) : 0,
            LatencyMaxMs = measured ? Ms(result!.LatencyUs.GetMaxValue()) : 0,
            MeasuredRequests = result?.MeasuredRequests ?? 0,
            MeasuredSeconds = result?.MeasuredSeconds ?? 0,
            Approvals = result?.MeasuredApprovals ?? 0,
            Declines = result?.MeasuredDeclines ?? 0,
            Errors = (result?.TotalErrors ?? 0) + (failure is null ? 0 : 1),
            Clients = options.Clients,
            TotalRequests = result?.TotalRequests ?? 0,
            ApprovedAmountTotalMinor = result?.TotalApprovedAmountMinor ?? 0,
            HeldTotalMinor = heldTotal,
            ServerCpuUsPerAuthorization = result is { MeasuredRequests: > 0 } ? result.ServerCpuSeconds * 1e6 / result.MeasuredRequests : 0,
            ClientCpuUsPerAuthorization = result is { MeasuredRequests: > 0 } ? result.ClientCpuSeconds * 1e6 / result.MeasuredRequests : 0,
            PerAuthorization = system.PerAuthorization,
            Settings = new Dictionary<string, string>(system.Settings),
            FirstError = failure ?? result?.FirstError,
        };
    }

    private static Dictionary<string, object?> ToJson(PeersReport report, PeersOptions options, DateTime startedUtc, string loadBefore, string loadAfter)
    {
        Dictionary<string, object?> json = BenchReport.Machine();
        json["benchmark"] = "peers";
        json["command"] = options.Command;
        json["started_utc"] = startedUtc.ToString("yyyy-MM-ddTHH:mm:ssZ");
        json["load_average_before"] = loadBefore;
        json["load_average_after"] = loadAfter;
        json["workload"] = $"authorize only: request n = (account, amount) from SplitMix64(seed, n); amounts {AuthorizeWorkload.AmountMinMinor}..{AuthorizeWorkload.AmountMaxMinor} minor units; " +
                           "closed loop: each client sends its next authorization when the last one is answered";
        json["seconds"] = options.Seconds;
        json["warmup_seconds"] = options.WarmupSeconds;
        json["clients"] = options.Clients;
        json["accounts"] = options.Accounts;
        json["credit_limit_minor"] = options.CreditLimitMinor;
        json["seed"] = options.Seed;
        json["max_requests"] = options.MaxRequests;
        json["pg_pool"] = options.PostgresPoolSize;
        json["grpc_server"] = options.GrpcServerMode;
        json["passed"] = report.Passed;
        json["systems"] = report.Rows.Select(row => row.ToJson()).ToList();
        json["ratios"] = report.Ratios.Select(ratio => ratio.ToJson()).ToList();
        return json;
    }

    /// <summary>The 1/5/15-minute load averages, recorded so a reader can tell whether the machine was busy with other work.</summary>
    private static string LoadAverage()
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(' ', fields.Take(3));
        }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }
}
