namespace Engine.LoadTest;

/// <summary>How requests are paced.</summary>
public enum LoadMode
{
    /// <summary>Constant arrival rate: request i is due at start + i / rate whatever happened to earlier ones.</summary>
    OpenLoop,
    /// <summary>A fixed number of requests outstanding: each worker sends its next request when the previous one is answered.</summary>
    ClosedLoop,
}

/// <summary>
/// Everything one run needs, parsed from the command line by <see cref="OptionsParser"/>. Every field has a named
/// bound (<see cref="Limits"/>): a run is always bounded in time (<see cref="Seconds"/>) and in count
/// (<see cref="MaxRequests"/>), and never keeps more than <see cref="MaxInFlight"/> commands outstanding.
/// </summary>
public sealed record LoadTestOptions
{
    public const string DefaultTarget = "http://127.0.0.1:5000";

    /// <summary>The engine's gRPC address; loopback only (<see cref="LoopbackAddress"/>).</summary>
    public Uri Target { get; init; } = new(DefaultTarget);
    /// <summary>The API key sent with every call (from --api-key-file); null for an engine running open.</summary>
    public string? ApiKey { get; init; }
    public LoadMode Mode { get; init; } = LoadMode.OpenLoop;
    /// <summary>Open loop: commands per second offered (with --execute-batch N, batches go out at rate / N per second).</summary>
    public double RatePerSecond { get; init; } = 1_000;
    /// <summary>Closed loop: requests (unary calls, or Execute batches) outstanding at once.</summary>
    public int Concurrency { get; init; }
    /// <summary>Commands per <c>PipelineService.Execute</c> batch; 0 = one unary call per command.</summary>
    public int ExecuteBatchSize { get; init; }
    /// <summary>Execute streams the batches are spread over (round robin); each stream answers in order.</summary>
    public int ExecuteStreams { get; init; } = 1;
    /// <summary>HTTP/2 connections (one gRPC channel each) the calls or streams are spread over.</summary>
    public int Connections { get; init; } = 4;
    /// <summary>Measured seconds, after the warm-up.</summary>
    public int Seconds { get; init; } = 30;
    /// <summary>Seconds run first and not counted (JIT, connections, caches).</summary>
    public int WarmupSeconds { get; init; } = 5;
    /// <summary>Most commands the run sends, warm-up included.</summary>
    public long MaxRequests { get; init; } = 50_000_000;
    /// <summary>
    /// Most commands outstanding; an open-loop send beyond it is counted as a client-side error, never queued.
    /// Default <see cref="ExecuteMaxInFlightDefault"/> with --execute-batch, <see cref="UnaryMaxInFlightDefault"/> for unary calls.
    /// </summary>
    public int MaxInFlight { get; init; } = ExecuteMaxInFlightDefault;

    public const int ExecuteMaxInFlightDefault = 20_000;
    /// <summary>
    /// Unary calls outstanding by default. Measured: with 20,000 pending unary calls against an overloaded engine, the
    /// grpc-dotnet client spends its CPU throwing the deadline and cancellation exceptions of failing calls, and the
    /// generator itself collapses (achieved fell to ~0/s while the engine's process was mostly idle).
    /// </summary>
    public const int UnaryMaxInFlightDefault = 2_000;
    /// <summary>Per-call deadline (unary) and the longest the end of the run waits for outstanding replies.</summary>
    public int TimeoutMs { get; init; } = 5_000;

    public WorkloadMix Mix { get; init; } = WorkloadMix.Default;
    public int Accounts { get; init; } = 10_000;
    /// <summary>Zipf exponent of the account choice; 0 = uniform. Account 0 is the hottest.</summary>
    public double ZipfExponent { get; init; }
    public long AmountMinMinor { get; init; } = 100;
    public long AmountMaxMinor { get; init; } = 10_000;
    /// <summary>Credit limit of the accounts the run opens: large, so authorizations approve unless a hot account hits its open-holds cap.</summary>
    public long CreditLimitMinor { get; init; } = 1_000_000_000_000;
    public int Seed { get; init; } = 1;
    /// <summary>Prefix of the account ids; the same prefix in a later run reuses the accounts.</summary>
    public string AccountPrefix { get; init; } = "lt-acct-";
    /// <summary>Skip opening the accounts (they exist from an earlier run with the same prefix).</summary>
    public bool SkipSetup { get; init; }

    /// <summary>Where the JSON goes; the .md and .html reports are written next to it. None = print only.</summary>
    public string? JsonPath { get; init; }
    /// <summary>Exit 1 when the measured p99 is above this many milliseconds.</summary>
    public double? MaxP99Ms { get; init; }
    /// <summary>Exit 1 when errors / requests is above this fraction (0..1).</summary>
    public double? MaxErrorRate { get; init; }
    /// <summary>No progress line each second.</summary>
    public bool Quiet { get; init; }

    /// <summary>Commands per send: one unary call, or one Execute batch.</summary>
    public int CommandsPerSend => ExecuteBatchSize > 0 ? ExecuteBatchSize : 1;
    public string Api => ExecuteBatchSize > 0 ? "execute" : "unary";

    /// <summary>The bounds <see cref="OptionsParser"/> enforces, named once.</summary>
    public static class Limits
    {
        public const double RatePerSecondMax = 10_000_000;
        public const int ConcurrencyMax = 100_000;
        public const int ExecuteBatchSizeMax = 10_000; // the server's Server:ExecuteBatchSizeMax default
        public const int ExecuteStreamsMax = 64;
        public const int ConnectionsMax = 64;
        public const int SecondsMax = 3_600;
        public const int WarmupSecondsMax = 600;
        public const long MaxRequestsMax = 1_000_000_000;
        public const int MaxInFlightMax = 1_000_000;
        public const int TimeoutMsMax = 600_000;
        public const int AccountsMax = 10_000_000;
        public const double ZipfExponentMax = 10;
        public const int AccountPrefixLengthMax = 40; // + 7 digits stays inside the 64-character id limit
    }
}
