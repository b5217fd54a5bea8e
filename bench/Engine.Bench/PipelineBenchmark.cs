using System.Diagnostics;
using Engine.Core;
using Engine.Domain;
using HdrHistogram;

namespace Engine.Bench;

/// <summary>
/// End-to-end throughput of the durable in-process pipeline: producers on their own threads submit batches
/// of authorizations (with captures, voids and repayments of their own earlier authorizations) for many
/// accounts; every reply waits for the journal's fsync unless <c>--no-fsync</c>.
/// Latency of a command = from its batch's submission to the batch's completion (all its replies durable).
/// <para>Back of the envelope (2 cores): decide ≈ 1–2 µs/command on one core; fsync ≈ 0.35–1 ms, so ≥ 1M/s needs
/// ≥ 1,000 commands per commit; events ≈ 130 B → 130 MB/s of log at 1M/s, a tenth of the disk's sequential rate.</para>
/// </summary>
internal static class PipelineBenchmark
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        int accounts = args.Int("accounts", 1_000_000);
        int seconds = args.Int("seconds", 10);
        int warmupSeconds = args.Int("warmup-seconds", 2);
        int producers = args.Int("producers", 4);
        int batchSize = args.Int("batch", 1024);
        int inFlightPerProducer = args.Int("in-flight", 2);
        bool noFsync = args.Flag("no-fsync");
        var defaults = new EngineOptions();
        string waitStrategy = args.String("wait") ?? defaults.WaitStrategy;
        int decideBatchSizeMax = args.Int("decide-batch", defaults.DecideBatchSizeMax);
        int commitBatchSizeMax = args.Int("commit-batch", defaults.CommitBatchSizeMax);
        string? jsonPath = args.String("json");
        // Idempotency tiers: "on" spills ids beyond the memory bound to the FASTER store, "off" forgets them. The bound
        // defaults to the engine's (Engine:Ledger:IdempotencyMaxEntries), so a default run never reaches it and stays
        // comparable with earlier figures; --idempotency-memory-ids 2000000 makes a run spill (or forget) most of its
        // ids, to compare the tiers (bench/RESULTS.md "Idempotency spill").
        string spill = args.String("spill") ?? "on";
        if (spill is not ("on" or "off")) throw new ArgumentException("--spill must be on or off");
        long idempotencyMemoryIds = args.Long("idempotency-memory-ids", new LedgerOptions().IdempotencyMaxEntries);
        if (idempotencyMemoryIds < 1) throw new ArgumentException("--idempotency-memory-ids must be >= 1");
        string dataDirectory = args.String("data") ?? Path.Combine(Path.GetTempPath(), $"engine-bench-{Environment.ProcessId}");
        bool keep = args.Flag("keep-data");
        // Credit lifecycle: "terms" opens every account in TERMS billing (net 30), so each capture creates a due.
        string billing = args.String("billing") ?? "none";
        if (billing is not ("none" or "terms")) throw new ArgumentException("--billing must be none or terms");
        args.RejectUnknown();
        if (seconds is < 1 or > 3600) throw new ArgumentException("--seconds must be 1..3600");

        if (Directory.Exists(dataDirectory)) Directory.Delete(dataDirectory, recursive: true);
        var options = new EngineOptions
        {
            DataDirectory = dataDirectory,
            AcknowledgeBeforeFsync = noFsync,
            WaitStrategy = waitStrategy,
            DecideBatchSizeMax = decideBatchSizeMax,
            CommitBatchSizeMax = commitBatchSizeMax,
            SnapshotIntervalSeconds = 0,
            SnapshotEveryEvents = 0,
            IdempotencySpill = spill == "on",
            // Sized for the ~10 million ids a 12 s run spills (2^22 buckets, 256 MiB: ~2.5 ids per bucket).
            IdempotencySpillIndexSizeBits = 22,
            // Sized for the run, as a production deployment sizes for its retention window (README "Sizing").
            Ledger = new LedgerOptions
            {
                ExpectedAccounts = accounts,
                ExpectedRequestIds = (int)Math.Min(idempotencyMemoryIds, accounts + (warmupSeconds + seconds) * 1_500_000L),
                IdempotencyMaxEntries = idempotencyMemoryIds,
                ExpectedAuthorizations = (warmupSeconds + seconds) * 1_000_000,
            },
        };
        Console.WriteLine($"pipeline: accounts={accounts} seconds={seconds} producers={producers} batch={batchSize} in-flight/producer={inFlightPerProducer} billing={billing} wait={waitStrategy} decide-batch={decideBatchSizeMax} commit-batch={commitBatchSizeMax} durable={!noFsync} spill={spill} idempotency-memory-ids={idempotencyMemoryIds} data={dataDirectory}");
        await using var engine = CreditEngine.Start(options, logger: new ConsoleLineLogger("engine"));

        var setupClock = Stopwatch.StartNew();
        await OpenAccountsAsync(engine, accounts, billing == "terms" ? new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = 30 } : null);
        Console.WriteLine($"opened {accounts} accounts in {setupClock.Elapsed.TotalSeconds:F1} s ({accounts / setupClock.Elapsed.TotalSeconds:F0}/s)");

        // Account ids are formatted once, not per command: the load generator shares the engine's two cores, and
        // formatting was its largest cost. They are distinct string objects from the ones the accounts were opened
        // with, so the engine still hashes and compares every id as it would for ids read off the network.
        var accountIds = new string[accounts];
        for (int n = 0; n < accounts; n++) accountIds[n] = AccountId(n);
        var workers = new Producer[producers];
        for (int p = 0; p < producers; p++) workers[p] = new Producer(engine, p, accountIds, batchSize);

        long commitsBefore = engine.JournalCommits;
        // Collections and pause time during the run (warm-up included): tells a collection in the run from the workload.
        int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        TimeSpan pauseBefore = GC.GetTotalPauseDuration();
        var runClock = Stopwatch.StartNew();
        long warmupEndTicks = Stopwatch.Frequency * warmupSeconds;
        long endTicks = Stopwatch.Frequency * (warmupSeconds + seconds);
        var tasks = new List<Task>();
        foreach (Producer worker in workers)
        {
            for (int i = 0; i < inFlightPerProducer; i++) tasks.Add(Task.Run(() => worker.RunAsync(runClock, warmupEndTicks, endTicks)));
        }
        var progress = Task.Run(async () =>
        {
            while (!Task.WhenAll(tasks).IsCompleted)
            {
                await Task.Delay(1000);
                Console.WriteLine($"  t={runClock.Elapsed.TotalSeconds:F0}s completed={workers.Sum(w => w.Completed)}");
            }
        });
        await Task.WhenAll(tasks);
        await progress;
        long commits = engine.JournalCommits - commitsBefore;
        int[] collections = [.. Enumerable.Range(0, 3).Select(g => GC.CollectionCount(g) - collectionsBefore[g])];
        double pauseMs = (GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds;

        var histogram = new LongHistogram(60_000_000, 3);
        long measured = 0, approved = 0, declined = 0, unavailable = 0;
        foreach (Producer worker in workers)
        {
            histogram.Add(worker.LatencyUs);
            measured += worker.Measured;
            approved += worker.Approved;
            declined += worker.Declined;
            unavailable += worker.Unavailable;
        }
        double perSecond = measured / (double)seconds;
        Console.WriteLine($"commands/s: {perSecond:F0} (measured {measured} over {seconds} s after {warmupSeconds} s warm-up); approved={approved} declined={declined} unavailable={unavailable}");
        Console.WriteLine($"journal commits: {commits} over the run ({(commits == 0 ? 0 : (double)workers.Sum(w => w.Completed) / commits):F0} commands per commit)");
        BenchReport.PrintLatency("reply", histogram);
        Console.WriteLine($"gc during the run: gen0={collections[0]} gen1={collections[1]} gen2={collections[2]} pause={pauseMs:F0} ms");
        IdempotencyWindowStatus window = engine.IdempotencyWindow;
        Console.WriteLine($"idempotency: {window.Entries} ids remembered, {window.SpilledEntries} spilled, {window.EvictedInsideWindow} forgotten inside the window; " +
            $"spill disk reads {window.SpillDiskReads} ({window.SpillNegativeDiskReads} for unknown ids)");

        Dictionary<string, object?> result = BenchReport.Machine();
        result["benchmark"] = "pipeline";
        result["accounts"] = accounts;
        result["seconds"] = seconds;
        result["producers"] = producers;
        result["batch"] = batchSize;
        result["in_flight_per_producer"] = inFlightPerProducer;
        result["durable"] = !noFsync;
        result["wait_strategy"] = waitStrategy;
        result["decide_batch_size_max"] = decideBatchSizeMax;
        result["commit_batch_size_max"] = commitBatchSizeMax;
        result["commands"] = measured;
        result["commands_per_second"] = Math.Round(perSecond);
        result["approved"] = approved;
        result["declined"] = declined;
        result["unavailable"] = unavailable;
        result["journal_commits"] = commits;
        result["idempotency_spill"] = spill;
        result["idempotency_memory_ids"] = idempotencyMemoryIds;
        result["idempotency_ids"] = window.Entries;
        result["idempotency_spilled_ids"] = window.SpilledEntries;
        result["idempotency_forgotten_inside_window"] = window.EvictedInsideWindow;
        result["idempotency_spill_disk_reads"] = window.SpillDiskReads;
        result["idempotency_spill_negative_disk_reads"] = window.SpillNegativeDiskReads;
        result["latency_p50_us"] = histogram.GetValueAtPercentile(50);
        result["latency_p90_us"] = histogram.GetValueAtPercentile(90);
        result["latency_p99_us"] = histogram.GetValueAtPercentile(99);
        result["latency_p999_us"] = histogram.GetValueAtPercentile(99.9);
        result["latency_max_us"] = histogram.GetMaxValue();
        result["gc_gen0_collections"] = collections[0];
        result["gc_gen1_collections"] = collections[1];
        result["gc_gen2_collections"] = collections[2];
        result["gc_pause_ms"] = Math.Round(pauseMs, 1);
        await engine.StopAsync();
        if (!keep) Directory.Delete(dataDirectory, recursive: true);
        BenchReport.WriteJson(jsonPath, result);
        return 0;
    }

    internal static async Task OpenAccountsAsync(CreditEngine engine, int accounts, BillingTerms? billing = null)
    {
        const int chunk = 8192;
        var commands = new Command[chunk];
        var replies = new Reply[chunk];
        for (int start = 0; start < accounts; start += chunk)
        {
            int count = Math.Min(chunk, accounts - start);
            for (int i = 0; i < count; i++)
            {
                int n = start + i;
                commands[i] = Command.OpenAccount($"open-{n}", AccountId(n), $"cust-{n}", "USD", 1_000_000_00) with { Billing = billing };
            }
            await engine.SubmitBatchAsync(commands.AsMemory(0, count), replies, waitForCapacity: true);
            for (int i = 0; i < count; i++)
            {
                if (replies[i].Status != Status.Ok) throw new InvalidOperationException($"OpenAccount {start + i} failed: {replies[i]}");
            }
        }
    }

    internal static string AccountId(int n) => $"acct-{n:D7}";

    /// <summary>One producer thread's workload and its latency histogram. Several batches of one producer may be in flight.</summary>
    private sealed class Producer(CreditEngine engine, int id, string[] accountIds, int batchSize)
    {
        private readonly string _requestIdPrefix = $"p{id}-";
        private readonly object _gate = new();
        private readonly Random _random = new(1000 + id);
        private readonly string[] _openAuthorizations = new string[4096];
        private int _openCount;
        private long _nextRequest;
        private long _completed;

        public readonly LongHistogram LatencyUs = new(60_000_000, 3);
        public long Measured, Approved, Declined, Unavailable;
        public long Completed => Volatile.Read(ref _completed);

        public async Task RunAsync(Stopwatch clock, long warmupEndTicks, long endTicks)
        {
            var commands = new Command[batchSize];
            var replies = new Reply[batchSize];
            while (clock.ElapsedTicks < endTicks)
            {
                lock (_gate) FillBatch(commands);
                long startTicks = clock.ElapsedTicks;
                await engine.SubmitBatchAsync(commands, replies, waitForCapacity: true);
                long endedTicks = clock.ElapsedTicks;
                Interlocked.Add(ref _completed, batchSize);
                lock (_gate)
                {
                    LearnAuthorizations(commands, replies);
                    if (startTicks < warmupEndTicks) continue;
                    long latencyUs = (endedTicks - startTicks) * 1_000_000 / Stopwatch.Frequency;
                    LatencyUs.RecordValueWithCount(Math.Max(1, latencyUs), batchSize);
                    Measured += batchSize;
                    foreach (Reply reply in replies.AsSpan(0, batchSize))
                    {
                        if (reply.Status == Status.Ok) Approved++;
                        else if (reply.Status == Status.EngineUnavailable) Unavailable++;
                        else Declined++;
                    }
                }
            }
        }

        // Mix: ~70% authorize, ~12% capture, ~8% void, ~10% repay.
        private void FillBatch(Command[] commands)
        {
            for (int i = 0; i < commands.Length; i++)
            {
                string requestId = NextRequestId();
                int roll = _random.Next(100);
                if (roll < 12 && _openCount > 0)
                {
                    commands[i] = Command.Capture(requestId, TakeOpenAuthorization(), _random.Next(1, 5_000), final: true);
                }
                else if (roll < 20 && _openCount > 0)
                {
                    commands[i] = Command.Void(requestId, TakeOpenAuthorization());
                }
                else if (roll < 30)
                {
                    commands[i] = Command.Repay(requestId, accountIds[_random.Next(accountIds.Length)], _random.Next(1, 10_000));
                }
                else
                {
                    commands[i] = Command.Authorize(requestId, accountIds[_random.Next(accountIds.Length)], _random.Next(100, 10_000), "USD");
                }
            }
        }

        /// <summary>A new string per command, as a request read off the network would be: prefix + decimal counter.</summary>
        private string NextRequestId()
        {
            ulong number = (ulong)_nextRequest++;
            int digits = 1;
            for (ulong rest = number / 10; rest > 0; rest /= 10) digits++;
            return string.Create(_requestIdPrefix.Length + digits, (_requestIdPrefix, number), static (span, state) =>
            {
                state._requestIdPrefix.CopyTo(span);
                ulong value = state.number;
                for (int at = span.Length - 1; at >= state._requestIdPrefix.Length; at--)
                {
                    span[at] = (char)('0' + value % 10);
                    value /= 10;
                }
            });
        }

        private string TakeOpenAuthorization()
        {
            int index = _random.Next(_openCount);
            string id = _openAuthorizations[index];
            _openAuthorizations[index] = _openAuthorizations[--_openCount];
            return id;
        }

        private void LearnAuthorizations(Command[] commands, Reply[] replies)
        {
            for (int i = 0; i < commands.Length; i++)
            {
                if (commands[i].Type != CommandType.Authorize || replies[i].Status != Status.Ok) continue;
                if (_openCount < _openAuthorizations.Length) _openAuthorizations[_openCount++] = commands[i].RequestId;
                else _openAuthorizations[_random.Next(_openAuthorizations.Length)] = commands[i].RequestId;
            }
        }
    }
}
