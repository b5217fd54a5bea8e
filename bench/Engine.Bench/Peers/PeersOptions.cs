namespace Engine.Bench.Peers;

/// <summary>
/// Settings of one <c>peers</c> run. Every system gets the same values: the same accounts and credit limit, the same
/// request sequence (<see cref="AuthorizeWorkload"/>), the same number of closed-loop clients, the same time bounds.
/// </summary>
internal sealed record PeersOptions
{
    public const string EngineInProcess = "engine-inprocess";
    public const string EngineGrpc = "engine-grpc";
    public const string EngineGrpcExecute = "engine-grpc-execute";
    public const string EngineSdk = "engine-sdk";
    public const string PostgreSql = "postgresql";
    public const string Redis = "redis";
    /// <summary>
    /// Not a ledger: the stub gRPC server (<see cref="Edge.StubServer"/>) under the engine-grpc client, the floor of
    /// what one unary call costs through Grpc.AspNetCore and Grpc.Net.Client here. Not durable, so never in the default set.
    /// </summary>
    public const string GrpcStub = "grpc-stub";

    /// <summary>Systems run when <c>--systems</c> is not given.</summary>
    public static readonly string[] DefaultSystems = [EngineInProcess, EngineGrpc, EngineGrpcExecute, EngineSdk, PostgreSql, Redis];
    public static readonly string[] KnownSystems = [.. DefaultSystems, GrpcStub];

    /// <summary>Hard bounds, so a typo cannot start a run that never ends or exhausts memory.</summary>
    public const int ClientsMax = 16_384;
    public const int AccountsMax = 10_000_000;
    public const int SecondsMax = 3_600;

    public IReadOnlyList<string> Systems { get; init; } = DefaultSystems;
    /// <summary>Measured seconds per system.</summary>
    public int Seconds { get; init; } = 20;
    /// <summary>Seconds per system before measuring starts; their requests change state (and count in the cross-check) but not in the figures.</summary>
    public double WarmupSeconds { get; init; } = 3;
    /// <summary>Logical concurrent requesters, each closed-loop: it sends its next authorization when the last one is answered.</summary>
    public int Clients { get; init; } = 256;
    public int Accounts { get; init; } = 10_000;
    public long CreditLimitMinor { get; init; } = 100_000_000;
    public long Seed { get; init; } = 42;
    /// <summary>Most authorizations per system, warm-up included: a safety cap next to the time bound.</summary>
    public long MaxRequests { get; init; } = 50_000_000;
    /// <summary>Npgsql pool size (connections = PostgreSQL backend processes).</summary>
    public int PostgresPoolSize { get; init; } = 32;
    /// <summary><c>child</c>: the server runs as its own process (dotnet Engine.Server.dll), like PostgreSQL and Redis; <c>inprocess</c>: ServerApp.Build in this process.</summary>
    public string GrpcServerMode { get; init; } = "child";
    /// <summary>Installs PostgreSQL / Redis with apt-get when missing (needs root).</summary>
    public bool InstallMissing { get; init; } = true;
    /// <summary>Time a request may still take after the measured window closed before the run is cancelled.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>After this many failed requests a system's run stops early (it is reported with its errors).</summary>
    public long ErrorsMax { get; init; } = 100;
    /// <summary>engine-sdk: the multiplexer's Execute streams and batches in flight per stream (the SDK's defaults unless given).</summary>
    public int SdkStreams { get; init; } = 2;
    public int SdkInFlight { get; init; } = 4;
    public string? JsonPath { get; init; }
    /// <summary>The command line, recorded in the JSON.</summary>
    public string Command { get; init; } = "";

    public static PeersOptions Parse(BenchArgs args, string commandLine)
    {
        var defaults = new PeersOptions();
        string? systems = args.String("systems");
        var options = new PeersOptions
        {
            Systems = systems is null ? DefaultSystems : systems.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Seconds = args.Int("seconds", defaults.Seconds),
            WarmupSeconds = args.Int("warmup-seconds", (int)defaults.WarmupSeconds),
            Clients = args.Int("clients", defaults.Clients),
            Accounts = args.Int("accounts", defaults.Accounts),
            CreditLimitMinor = args.Long("credit-limit", defaults.CreditLimitMinor),
            Seed = args.Long("seed", defaults.Seed),
            MaxRequests = args.Long("max-requests", defaults.MaxRequests),
            PostgresPoolSize = args.Int("pg-pool", defaults.PostgresPoolSize),
            GrpcServerMode = args.String("grpc-server") ?? defaults.GrpcServerMode,
            InstallMissing = !args.Flag("no-install"),
            SdkStreams = args.Int("sdk-streams", defaults.SdkStreams),
            SdkInFlight = args.Int("sdk-in-flight", defaults.SdkInFlight),
            JsonPath = args.String("json"),
            Command = commandLine,
        };
        args.RejectUnknown();
        options.Validate();
        return options;
    }

    public void Validate()
    {
        if (Systems.Count == 0) throw new ArgumentException("--systems names no system");
        foreach (string system in Systems)
        {
            if (!KnownSystems.Contains(system)) throw new ArgumentException($"--systems: unknown system '{system}' (known: {string.Join(", ", KnownSystems)})");
        }
        if (Systems.Distinct().Count() != Systems.Count) throw new ArgumentException("--systems names a system twice");
        if (Seconds is < 1 or > SecondsMax) throw new ArgumentException($"--seconds must be 1..{SecondsMax}");
        if (WarmupSeconds is < 0 or > SecondsMax) throw new ArgumentException($"--warmup-seconds must be 0..{SecondsMax}");
        if (Clients is < 1 or > ClientsMax) throw new ArgumentException($"--clients must be 1..{ClientsMax}");
        if (Accounts is < 1 or > AccountsMax) throw new ArgumentException($"--accounts must be 1..{AccountsMax}");
        if (CreditLimitMinor < 1) throw new ArgumentException("--credit-limit must be > 0");
        if (MaxRequests < 1) throw new ArgumentException("--max-requests must be > 0");
        if (PostgresPoolSize is < 1 or > 1_000) throw new ArgumentException("--pg-pool must be 1..1000");
        if (SdkStreams is < 1 or > 64) throw new ArgumentException("--sdk-streams must be 1..64");
        if (SdkInFlight is < 1 or > 1024) throw new ArgumentException("--sdk-in-flight must be 1..1024");
        if (GrpcServerMode is not ("child" or "inprocess")) throw new ArgumentException("--grpc-server must be child or inprocess");
    }
}
