using System.Diagnostics;
using Credit.V1;
using Engine.Server.Hosting;
using Engine.ReadModel;
using Grpc.Net.Client;
using HdrHistogram;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Engine.Bench;

/// <summary>
/// Read replicas, end to end over loopback gRPC, leader and replica servers in this process (the same
/// <see cref="ServerApp.Build"/> as the executable; they share this machine's cores with the load):
/// <list type="number">
/// <item><b>catch-up</b>: the leader holds <c>--events</c> events; a new replica starts empty and follows it. Apply rate =
/// events / time until the replica has applied the last one (Subscribe in EVENT_BLOCKS, CRC check, append to its own
/// log, Ledger.Apply, history index).</item>
/// <item><b>restart replay</b>: the replica restarts and replays its own log from disk (no snapshot): the apply rate
/// without the network.</item>
/// <item><b>queries</b>: <c>--clients</c> concurrent GetAccount calls on the replica for <c>--seconds</c>.</item>
/// <item><b>lag</b>: the leader is driven at <c>--rate</c> commands/s (Execute batches of 1,000, paced); for every
/// batch, the time from its durable reply on the leader to the replica having applied its last sequence.</item>
/// </list>
/// Back of the envelope: Ledger.Apply ≈ 0.3 µs/event (RESULTS.md micro) → ~3M events/s on one core before the
/// network, the CRC (≈ 130 B/event at several GB/s: negligible) and the history index (one 8-byte append).
/// </summary>
internal static class ReplicaBenchmark
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        int accounts = args.Int("accounts", 10_000);
        long events = args.Long("events", 2_000_000);
        int seconds = args.Int("seconds", 10);
        int clients = args.Int("clients", 64);
        int rate = args.Int("rate", 100_000);
        int lagSeconds = args.Int("lag-seconds", 10);
        string? jsonPath = args.String("json");
        string root = args.String("data") ?? Path.Combine(Path.GetTempPath(), $"engine-bench-replica-{Environment.ProcessId}");
        args.RejectUnknown();
        if (events is < 1_000 or > 1_000_000_000) throw new ArgumentException("--events must be 1,000..1,000,000,000");
        if (seconds is < 1 or > 3600 || lagSeconds is < 1 or > 3600) throw new ArgumentException("--seconds and --lag-seconds must be 1..3600");
        if (rate is < 1_000 or > 10_000_000) throw new ArgumentException("--rate must be 1,000..10,000,000");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        Console.WriteLine($"replica: accounts={accounts} events={events} clients={clients} seconds={seconds} rate={rate}/s lag-seconds={lagSeconds} gc-server={System.Runtime.GCSettings.IsServerGC} data={root}");

        var result = BenchReport.Machine();
        result["benchmark"] = "replica";
        // Leader and replica share this process and so its GC mode (DOTNET_gcServer=1 selects server GC).
        result["gc_server"] = System.Runtime.GCSettings.IsServerGC;
        result["command"] = "dotnet run -c Release --project bench/Engine.Bench -- replica " + string.Join(' ', Environment.GetCommandLineArgs().Skip(2));
        try
        {
            await using Node leader = await Node.StartAsync(Path.Combine(root, "leader"));
            var pipeline = new PipelineService.PipelineServiceClient(leader.Channel);
            string[] accountIds = [.. Enumerable.Range(0, accounts).Select(n => $"acct-{n:D8}")];
            var clock = Stopwatch.StartNew();
            await ExecuteAsync(pipeline, accountIds.Select((id, n) => new Command { OpenAccount = new OpenAccountRequest { RequestId = $"open-{n}", AccountId = id, CustomerId = "c", Currency = "USD", CreditLimit = 1_000_000_000_000 } }));
            long authorizations = Math.Max(0, events - accounts);
            long last = await ExecuteAsync(pipeline, Authorizations(accountIds, authorizations, "fill"));
            Console.WriteLine($"leader filled: {last} events in {clock.Elapsed.TotalSeconds:F1} s");

            // 1. Catch-up from empty.
            string replicaDirectory = Path.Combine(root, "replica");
            clock.Restart();
            double catchUpSeconds;
            await using (Node replica = await Node.StartAsync(replicaDirectory, "--Engine:Mode=ReadReplica", $"--Engine:LeaderUrl={leader.Address}", "--ReadModel:SnapshotEveryEvents=1000000000"))
            {
                if (!await replica.ReadModel.WaitForSequenceAsync(last, CancellationToken.None)) throw new TimeoutException("the replica did not catch up within ReadModel:MinSequenceWaitMaxMs");
                catchUpSeconds = clock.Elapsed.TotalSeconds;
            }
            Console.WriteLine($"catch-up: {last} events in {catchUpSeconds:F2} s = {last / catchUpSeconds:F0} events/s");
            result["catch_up_events"] = last;
            result["catch_up_seconds"] = Math.Round(catchUpSeconds, 3);
            result["catch_up_events_per_second"] = Math.Round(last / catchUpSeconds);

            // 2. Restart: the stop above wrote a snapshot, so delete it to time a replay of the whole local log.
            foreach (string snapshot in Directory.GetFiles(Path.Combine(replicaDirectory, "replica", "snapshots"))) File.Delete(snapshot);
            clock.Restart();
            await using Node restarted = await Node.StartAsync(replicaDirectory, "--Engine:Mode=ReadReplica", $"--Engine:LeaderUrl={leader.Address}", "--ReadModel:SnapshotEveryEvents=1000000000");
            double replaySeconds = clock.Elapsed.TotalSeconds;
            if (restarted.ReadModel.AppliedSequence != last) throw new InvalidOperationException($"replayed to {restarted.ReadModel.AppliedSequence}, expected {last}");
            Console.WriteLine($"restart replay of its own log: {last} events in {replaySeconds:F2} s = {last / replaySeconds:F0} events/s (includes server start)");
            result["replay_seconds"] = Math.Round(replaySeconds, 3);
            result["replay_events_per_second"] = Math.Round(last / replaySeconds);

            // 3. GetAccount throughput on the replica.
            (long queries, HistogramBase queryLatencyUs) = await QueryLoadAsync(restarted.Channel, accountIds, clients, seconds);
            BenchReport.PrintLatency("replica GetAccount", queryLatencyUs);
            Console.WriteLine($"replica GetAccount: {queries / (double)seconds:F0}/s with {clients} concurrent callers");
            result["get_account_per_second"] = Math.Round(queries / (double)seconds);
            result["get_account_clients"] = clients;
            result["get_account_p50_ms"] = queryLatencyUs.GetValueAtPercentile(50) / 1000.0;
            result["get_account_p99_ms"] = queryLatencyUs.GetValueAtPercentile(99) / 1000.0;

            // 4. Lag at a steady write rate.
            (long written, double writtenSeconds, HistogramBase lagUs) = await LagAsync(pipeline, restarted.ReadModel, accountIds, rate, lagSeconds);
            BenchReport.PrintLatency("replica lag behind the leader's durable reply", lagUs);
            Console.WriteLine($"lag phase: {written} commands in {writtenSeconds:F1} s = {written / writtenSeconds:F0}/s offered {rate}/s");
            result["lag_rate_offered_per_second"] = rate;
            result["lag_rate_achieved_per_second"] = Math.Round(written / writtenSeconds);
            result["lag_p50_ms"] = lagUs.GetValueAtPercentile(50) / 1000.0;
            result["lag_p99_ms"] = lagUs.GetValueAtPercentile(99) / 1000.0;
            result["lag_max_ms"] = lagUs.GetMaxValue() / 1000.0;
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } // best effort
        }
        BenchReport.WriteJson(jsonPath, result);
        return 0;
    }

    private static IEnumerable<Command> Authorizations(string[] accountIds, long count, string prefix)
    {
        var random = new Random(42);
        for (long i = 0; i < count; i++)
        {
            yield return new Command { Authorize = new AuthorizeRequest { RequestId = $"{prefix}-{i}", AccountId = accountIds[random.Next(accountIds.Length)], Amount = random.Next(100, 10_000), Currency = "USD" } };
        }
    }

    /// <summary>Sends commands through one Execute stream in batches of 10,000 with up to 4 in flight; returns the last sequence.</summary>
    private static async Task<long> ExecuteAsync(PipelineService.PipelineServiceClient pipeline, IEnumerable<Command> commands)
    {
        using var call = pipeline.Execute();
        var inFlight = new SemaphoreSlim(4);
        long last = 0;
        var reader = Task.Run(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                last = Math.Max(last, call.ResponseStream.Current.Replies[^1].Sequence);
                inFlight.Release();
            }
        });
        var batch = new ExecuteRequest();
        ulong id = 0;
        foreach (Command command in commands)
        {
            batch.Commands.Add(command);
            if (batch.Commands.Count < 10_000) continue;
            await inFlight.WaitAsync();
            batch.BatchId = id++;
            await call.RequestStream.WriteAsync(batch);
            batch = new ExecuteRequest();
        }
        if (batch.Commands.Count > 0)
        {
            await inFlight.WaitAsync();
            batch.BatchId = id;
            await call.RequestStream.WriteAsync(batch);
        }
        await call.RequestStream.CompleteAsync();
        await reader;
        return last;
    }

    private static async Task<(long Count, HistogramBase LatencyUs)> QueryLoadAsync(GrpcChannel channel, string[] accountIds, int clients, int seconds)
    {
        var queries = new QueryService.QueryServiceClient(channel);
        var histogram = new LongHistogram(TimeSpan.FromSeconds(10).Ticks / 10, 3);
        long count = 0;
        long end = Stopwatch.GetTimestamp() + seconds * Stopwatch.Frequency;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            var local = new LongHistogram(TimeSpan.FromSeconds(10).Ticks / 10, 3);
            long mine = 0;
            // Bounded in time and count.
            while (Stopwatch.GetTimestamp() < end && mine < 100_000_000)
            {
                long start = Stopwatch.GetTimestamp();
                await queries.GetAccountAsync(new GetAccountRequest { AccountId = accountIds[random.Next(accountIds.Length)] });
                local.RecordValue(Math.Max(1, (Stopwatch.GetTimestamp() - start) * 1_000_000 / Stopwatch.Frequency));
                mine++;
            }
            lock (histogram) histogram.Add(local);
            Interlocked.Add(ref count, mine);
        })));
        return (count, histogram);
    }

    private static async Task<(long Written, double Seconds, HistogramBase LagUs)> LagAsync(PipelineService.PipelineServiceClient pipeline, LedgerReadModel replica,
        string[] accountIds, int rate, int seconds)
    {
        const int BatchSize = 1_000;
        var lagUs = new LongHistogram(TimeSpan.FromSeconds(60).Ticks / 10, 3);
        using var call = pipeline.Execute();
        var waiters = new List<Task>();
        long written = 0;
        var reader = Task.Run(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                long sequence = call.ResponseStream.Current.Replies[^1].Sequence;
                long repliedAt = Stopwatch.GetTimestamp();
                written += call.ResponseStream.Current.Replies.Count;
                waiters.Add(Task.Run(async () =>
                {
                    await replica.WaitForSequenceAsync(sequence, CancellationToken.None);
                    long us = (Stopwatch.GetTimestamp() - repliedAt) * 1_000_000 / Stopwatch.Frequency;
                    lock (lagUs) lagUs.RecordValue(Math.Max(1, us));
                }));
            }
        });
        IEnumerator<Command> commands = Authorizations(accountIds, (long)rate * seconds, "lag").GetEnumerator();
        long batches = (long)rate * seconds / BatchSize;
        double batchIntervalTicks = Stopwatch.Frequency * (double)BatchSize / rate;
        long start = Stopwatch.GetTimestamp();
        for (long b = 0; b < batches; b++)
        {
            // Open loop: batch b goes out at its scheduled time, whatever happened to the previous ones.
            long due = start + (long)(b * batchIntervalTicks);
            while (Stopwatch.GetTimestamp() < due) await Task.Delay(1);
            var request = new ExecuteRequest { BatchId = (ulong)b };
            for (int i = 0; i < BatchSize && commands.MoveNext(); i++) request.Commands.Add(commands.Current);
            await call.RequestStream.WriteAsync(request);
        }
        await call.RequestStream.CompleteAsync();
        await reader;
        double elapsed = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
        await Task.WhenAll(waiters);
        return (written, elapsed, lagUs);
    }

    /// <summary>A server (leader or replica) in this process on a free loopback port.</summary>
    private sealed class Node : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Node(WebApplication app, string address)
        {
            _app = app;
            Address = address;
            Channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
            ReadModel = app.Services.GetRequiredService<LedgerReadModel>();
        }

        public string Address { get; }
        public GrpcChannel Channel { get; }
        public LedgerReadModel ReadModel { get; }

        public static async Task<Node> StartAsync(string dataDirectory, params string[] extra)
        {
            string[] args =
            [
                "--urls", "http://127.0.0.1:0",
                $"--Engine:DataDirectory={dataDirectory}",
                "--Logging:LogLevel:Default=Warning",
                "--Logging:LogLevel:Engine.Server=Information",
                .. extra,
            ];
            WebApplication app = ServerApp.Build(args);
            await app.StartAsync();
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new Node(app, address);
        }

        public async ValueTask DisposeAsync()
        {
            Channel.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
