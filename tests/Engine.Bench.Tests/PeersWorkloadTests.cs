using Engine.Bench.Peers;

namespace Engine.Bench.Tests;

/// <summary>The rules that make the peers comparison fair and its options safe, without starting any server.</summary>
public sealed class PeersWorkloadTests
{
    [Fact]
    public void The_same_seed_gives_every_system_the_same_authorization_for_each_request_index()
    {
        var first = new AuthorizeWorkload(seed: 7, accounts: 1_000);
        var second = new AuthorizeWorkload(seed: 7, accounts: 1_000);
        var otherSeed = new AuthorizeWorkload(seed: 8, accounts: 1_000);
        int differences = 0;
        for (long n = 0; n < 10_000; n++)
        {
            (int account, long amount) = first.At(n);
            Assert.Equal((account, amount), second.At(n));
            Assert.InRange(account, 0, 999);
            Assert.InRange(amount, AuthorizeWorkload.AmountMinMinor, AuthorizeWorkload.AmountMaxMinor);
            if (otherSeed.At(n) != (account, amount)) differences++;
        }
        Assert.True(differences > 9_000, "another seed must give another sequence");
        Assert.Equal("acct-0000042", first.AccountIds[42]);
    }

    [Fact]
    public void Requests_spread_over_all_accounts()
    {
        var workload = new AuthorizeWorkload(seed: 42, accounts: 16);
        var perAccount = new int[16];
        for (long n = 0; n < 16_000; n++) perAccount[workload.At(n).AccountIndex]++;
        Assert.All(perAccount, count => Assert.InRange(count, 800, 1_200));
    }

    [Fact]
    public void Unknown_systems_and_options_are_refused_rather_than_running_a_default_benchmark()
    {
        Assert.Throws<ArgumentException>(() => PeersOptions.Parse(new BenchArgs(["--systems", "engine-inprocess,mysql"]), "peers"));
        Assert.Throws<ArgumentException>(() => PeersOptions.Parse(new BenchArgs(["--secnds", "5"]), "peers"));
        Assert.Throws<ArgumentException>(() => PeersOptions.Parse(new BenchArgs(["--clients", "0"]), "peers"));
        PeersOptions defaults = PeersOptions.Parse(new BenchArgs([]), "peers");
        Assert.Equal(["engine-inprocess", "engine-grpc", "engine-grpc-execute", "engine-sdk", "postgresql", "redis"], defaults.Systems);
    }

    [Fact]
    public void Ratios_compare_every_engine_row_with_every_peer()
    {
        PeerRow Row(string name, double perSecond, double p50) => new()
        {
            Name = name, Durable = true, PerSecond = perSecond, LatencyP50Ms = p50, LatencyP99Ms = p50, LatencyP999Ms = p50, LatencyMaxMs = p50,
            MeasuredRequests = 1, MeasuredSeconds = 1, Approvals = 1, Declines = 0, Errors = 0, Clients = 1, TotalRequests = 1,
            ApprovedAmountTotalMinor = 1, HeldTotalMinor = 1, PerAuthorization = "", Settings = new Dictionary<string, string>(),
        };
        PeerRow[] rows = [Row("engine-inprocess", 100_000, 1), Row("engine-grpc", 20_000, 4), Row("postgresql", 2_000, 20), Row("redis", 10_000, 8)];

        IReadOnlyList<PeerRatio> ratios = PeersReport.ComputeRatios(rows);

        Assert.Equal(4, ratios.Count);
        Assert.Equal(50, ratios.Single(r => r.Engine == "engine-inprocess" && r.Peer == "postgresql").ThroughputRatio);
        Assert.Equal(20, ratios.Single(r => r.Engine == "engine-inprocess" && r.Peer == "postgresql").LatencyP50Ratio);
        Assert.Equal(2, ratios.Single(r => r.Engine == "engine-grpc" && r.Peer == "redis").ThroughputRatio);
    }
}
