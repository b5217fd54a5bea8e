using BenchmarkDotNet.Running;

namespace Engine.Bench;

/// <summary>
/// Entry point of the benchmark harness.
/// <c>micro [BenchmarkDotNet args]</c> runs the BenchmarkDotNet micro-benchmarks in <c>Micro/</c>;
/// <c>pipeline</c> and <c>recovery</c> run the end-to-end harnesses; <c>peers</c> runs the same authorize workload
/// against the engine, PostgreSQL and Redis (see README.md).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: Engine.Bench micro [BenchmarkDotNet args] | pipeline [options, --spill on|off, --idempotency-memory-ids N, --billing none|terms] | recovery [options] | replica [--events N] [--accounts N] [--seconds N] [--clients N] [--rate N] [--lag-seconds N] [--json PATH] | lifecycle-ticks [--accounts N] [--late-percent N] [--days N] [--events-per-tick-max N] [--json PATH] | peers [--seconds N] [--warmup-seconds N] [--clients N] [--accounts N] [--systems engine-inprocess,engine-grpc,engine-grpc-execute,engine-sdk,postgresql,redis] [--seed N] [--max-requests N] [--pg-pool N] [--credit-limit N] [--grpc-server child|inprocess] [--sdk-streams N] [--sdk-in-flight N] [--no-install] [--json PATH] | edge-floor [--seconds N] [--warmup-seconds N] [--connections N] [--in-flight 40,400] [--servers stub,engine] [--no-install] [--json PATH] | stub-server [--urls URL]");
            return 2;
        }

        string verb = args[0];
        string[] rest = args[1..];
        switch (verb)
        {
            case "micro":
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest);
                return 0;
            case "pipeline":
                return await PipelineBenchmark.RunAsync(new BenchArgs(rest));
            case "recovery":
                return await RecoveryBenchmark.RunAsync(new BenchArgs(rest));
            case "replica":
                return await ReplicaBenchmark.RunAsync(new BenchArgs(rest));
            case "lifecycle-ticks":
                return await LifecycleTicksBenchmark.RunAsync(new BenchArgs(rest));
            case "peers":
                return await Peers.PeersBenchmark.RunAsync(new BenchArgs(rest), rest);
            case "edge-floor":
                return await Edge.EdgeFloorBenchmark.RunAsync(new BenchArgs(rest));
            case "stub-server":
                return await Edge.StubServer.RunAsync(rest);
            default:
                Console.Error.WriteLine($"unknown verb '{verb}'");
                return 2;
        }
    }
}
