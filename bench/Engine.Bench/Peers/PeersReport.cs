using System.Globalization;

namespace Engine.Bench.Peers;

/// <summary>One system's row: throughput, latency, outcomes, the verified durability settings and the cross-check.</summary>
internal sealed record PeerRow
{
    public required string Name { get; init; }
    public required bool Durable { get; init; }
    public required double PerSecond { get; init; }
    public required double LatencyP50Ms { get; init; }
    public required double LatencyP99Ms { get; init; }
    public required double LatencyP999Ms { get; init; }
    public required double LatencyMaxMs { get; init; }
    public required long MeasuredRequests { get; init; }
    public required double MeasuredSeconds { get; init; }
    public required long Approvals { get; init; }
    public required long Declines { get; init; }
    /// <summary>Failed requests over the whole run (warm-up included), plus a failure to start or read back.</summary>
    public required long Errors { get; init; }
    public required int Clients { get; init; }
    public required long TotalRequests { get; init; }
    public required long ApprovedAmountTotalMinor { get; init; }
    /// <summary>Sum of held read back from the system; null when it could not be read.</summary>
    public required long? HeldTotalMinor { get; init; }
    public bool CrossCheckPassed => HeldTotalMinor == ApprovedAmountTotalMinor;
    /// <summary>CPU per authorization completed in the window, µs: the server's processes and this process (load generator + client, + engine when in-process).</summary>
    public double ServerCpuUsPerAuthorization { get; init; }
    public double ClientCpuUsPerAuthorization { get; init; }
    public required string PerAuthorization { get; init; }
    public required IReadOnlyDictionary<string, string> Settings { get; init; }
    public string? FirstError { get; init; }

    /// <summary>A floor row (grpc-stub): no ledger and not durable by design, so it passes on errors and read-back alone.</summary>
    public bool Floor => Name == PeersOptions.GrpcStub;

    public bool Passed => (Durable || Floor) && Errors == 0 && CrossCheckPassed;

    public Dictionary<string, object?> ToJson() => new()
    {
        ["name"] = Name,
        ["durable"] = Durable,
        ["per_second"] = Math.Round(PerSecond),
        ["latency_p50_ms"] = LatencyP50Ms,
        ["latency_p99_ms"] = LatencyP99Ms,
        ["latency_p999_ms"] = LatencyP999Ms,
        ["latency_max_ms"] = LatencyMaxMs,
        ["measured_requests"] = MeasuredRequests,
        ["measured_seconds"] = Math.Round(MeasuredSeconds, 3),
        ["approvals"] = Approvals,
        ["declines"] = Declines,
        ["errors"] = Errors,
        ["clients"] = Clients,
        ["total_requests_including_warmup"] = TotalRequests,
        ["approved_amount_total_minor"] = ApprovedAmountTotalMinor,
        ["held_total_minor"] = HeldTotalMinor,
        ["cross_check_passed"] = CrossCheckPassed,
        ["cpu_us_per_authorization_server"] = Math.Round(ServerCpuUsPerAuthorization, 1),
        ["cpu_us_per_authorization_client"] = Math.Round(ClientCpuUsPerAuthorization, 1),
        ["cpu_us_per_authorization_total"] = Math.Round(ServerCpuUsPerAuthorization + ClientCpuUsPerAuthorization, 1),
        ["per_authorization"] = PerAuthorization,
        ["settings"] = Settings,
        ["first_error"] = FirstError,
    };
}

/// <summary>Throughput of one engine row divided by one peer's, and the peer's p50 latency divided by the engine's.</summary>
internal sealed record PeerRatio(string Engine, string Peer, double ThroughputRatio, double LatencyP50Ratio)
{
    public Dictionary<string, object?> ToJson() => new()
    {
        ["engine"] = Engine,
        ["peer"] = Peer,
        ["throughput_ratio"] = Math.Round(ThroughputRatio, 2),
        ["latency_p50_ratio"] = Math.Round(LatencyP50Ratio, 2),
    };
}

/// <summary>The whole run: rows, ratios, and whether every row passed.</summary>
internal sealed record PeersReport(IReadOnlyList<PeerRow> Rows, IReadOnlyList<PeerRatio> Ratios)
{
    public bool Passed => Rows.Count > 0 && Rows.All(row => row.Passed);

    public static IReadOnlyList<PeerRatio> ComputeRatios(IReadOnlyList<PeerRow> rows)
    {
        var ratios = new List<PeerRatio>();
        foreach (PeerRow engine in rows.Where(row => row.Name.StartsWith("engine-", StringComparison.Ordinal)))
        {
            foreach (PeerRow peer in rows.Where(row => !row.Name.StartsWith("engine-", StringComparison.Ordinal) && !row.Floor))
            {
                double throughput = peer.PerSecond > 0 ? engine.PerSecond / peer.PerSecond : 0;
                double latency = engine.LatencyP50Ms > 0 ? peer.LatencyP50Ms / engine.LatencyP50Ms : 0;
                ratios.Add(new PeerRatio(engine.Name, peer.Name, throughput, latency));
            }
        }
        return ratios;
    }

    public void Print(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"{"system",-20} {"durable",7} {"per_second",11} {"p50 ms",9} {"p99 ms",9} {"p99.9 ms",9} {"approvals",10} {"declines",9} {"errors",6} {"cpu µs/auth srv+cli",19}  cross-check");
        foreach (PeerRow row in Rows)
        {
            string check = row.HeldTotalMinor is null ? "NOT READ" : row.CrossCheckPassed ? "ok" : $"MISMATCH held {row.HeldTotalMinor} != approved {row.ApprovedAmountTotalMinor}";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Name,-20} {(row.Durable ? "yes" : "NO"),7} {row.PerSecond,11:N0} {row.LatencyP50Ms,9:F2} {row.LatencyP99Ms,9:F2} {row.LatencyP999Ms,9:F2} {row.Approvals,10} {row.Declines,9} {row.Errors,6} {$"{row.ServerCpuUsPerAuthorization:F1}+{row.ClientCpuUsPerAuthorization:F1}",19}  {check}"));
        }
        if (Ratios.Count > 0)
        {
            output.WriteLine();
            output.WriteLine($"{"engine",-20} {"peer",-12} {"throughput ×",13} {"p50 latency ×",14}");
            foreach (PeerRatio ratio in Ratios)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ratio.Engine,-20} {ratio.Peer,-12} {ratio.ThroughputRatio,13:F1} {ratio.LatencyP50Ratio,14:F1}"));
            }
        }
        foreach (PeerRow row in Rows.Where(row => row.FirstError is not null))
        {
            output.WriteLine($"first error of {row.Name}: {row.FirstError}");
        }
        if (Rows.Any(row => row.Floor)) output.WriteLine("grpc-stub is the floor (a stub server, no ledger, not durable): what one unary gRPC call costs here");
        output.WriteLine(Passed ? "all rows durable, error-free and cross-checked" : "FAILED: a row is not durable, had errors, or its read-back does not match what was approved");
    }
}
