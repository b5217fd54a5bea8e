using System.Diagnostics;
using Engine.Core;
using Engine.Domain;

namespace Engine.Bench;

/// <summary>
/// Recovery time: builds a journal of <c>--accounts</c> OpenAccount events plus authorizations, captures and
/// repayments up to <c>--events</c> in total, with one snapshot taken half-way, stops WITHOUT a shutdown
/// snapshot (as after a crash), then measures a full start: FASTER recovery, snapshot load, replay of the
/// second half, invariant check. Also measures resident bytes per account (accounts only, no holds and no
/// request ids) on a ledger built in this process.
/// <para>Back of the envelope: replay applies ≈ 2–4 M events/s on one core (decode + dictionary work), so
/// 5 M replayed events ≈ 2 s; a snapshot of 1 M accounts + 5 M request ids ≈ 500 MB reads in ≈ 1–2 s.</para>
/// </summary>
internal static class RecoveryBenchmark
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        int accounts = args.Int("accounts", 1_000_000);
        long events = args.Long("events", 10_000_000);
        string? jsonPath = args.String("json");
        string dataDirectory = args.String("data") ?? Path.Combine(Path.GetTempPath(), $"engine-recovery-{Environment.ProcessId}");
        bool keep = args.Flag("keep-data");
        args.RejectUnknown();
        if (events < accounts) throw new ArgumentException("--events must be >= --accounts (every account is opened by one event)");

        long bytesPerAccount = MeasureBytesPerAccount(accounts);
        Console.WriteLine($"resident bytes per account (accounts only): {bytesPerAccount}");

        if (Directory.Exists(dataDirectory)) Directory.Delete(dataDirectory, recursive: true);
        var buildOptions = new EngineOptions
        {
            DataDirectory = dataDirectory,
            SnapshotEveryEvents = events / 2,
            SnapshotIntervalSeconds = 0,
            SnapshotOnShutdown = false,
            Ledger = Sized(accounts, events),
        };
        var buildClock = Stopwatch.StartNew();
        await using (var engine = CreditEngine.Start(buildOptions, logger: new ConsoleLineLogger("build")))
        {
            await PipelineBenchmark.OpenAccountsAsync(engine, accounts);
            await GenerateAsync(engine, accounts, events - accounts);
            await engine.StopAsync();
        }
        Console.WriteLine($"built {events} events in {buildClock.Elapsed.TotalSeconds:F1} s");

        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var recoveryClock = Stopwatch.StartNew();
        var recoverOptions = new EngineOptions { DataDirectory = dataDirectory, SnapshotOnShutdown = false, SnapshotIntervalSeconds = 0, SnapshotEveryEvents = 0, Ledger = Sized(accounts, events) };
        RecoveryReport report;
        long heapAfter;
        await using (var engine = CreditEngine.Start(recoverOptions, logger: new ConsoleLineLogger("recover")))
        {
            recoveryClock.Stop();
            report = engine.Recovery;
            heapAfter = GC.GetTotalMemory(forceFullCollection: true);
            await engine.StopAsync();
        }
        double recoverySeconds = recoveryClock.Elapsed.TotalSeconds;
        Console.WriteLine($"recovery: {recoverySeconds:F2} s (snapshot at {report.SnapshotSequence}, replayed {report.ReplayedEvents}, last sequence {report.LastSequence})");

        Dictionary<string, object?> result = BenchReport.Machine();
        result["benchmark"] = "recovery";
        result["accounts"] = accounts;
        result["events"] = report.LastSequence;
        result["snapshot_sequence"] = report.SnapshotSequence;
        result["replayed_events"] = report.ReplayedEvents;
        result["recovery_seconds"] = Math.Round(recoverySeconds, 3);
        result["snapshot_load_seconds"] = Math.Round(report.SnapshotLoad.TotalSeconds, 3);
        result["replay_seconds"] = Math.Round(report.Replay.TotalSeconds, 3);
        result["replay_events_per_second"] = report.Replay.TotalSeconds > 0 ? Math.Round(report.ReplayedEvents / report.Replay.TotalSeconds) : null;
        result["resident_bytes_per_account"] = bytesPerAccount;
        result["managed_heap_bytes_after_recovery"] = heapAfter - heapBefore;
        result["build_seconds"] = Math.Round(buildClock.Elapsed.TotalSeconds, 1);
        if (!keep) Directory.Delete(dataDirectory, recursive: true);
        BenchReport.WriteJson(jsonPath, result);
        return 0;
    }

    private static LedgerOptions Sized(int accounts, long events) => new()
    {
        ExpectedAccounts = accounts,
        ExpectedRequestIds = checked((int)events),
        ExpectedAuthorizations = checked((int)Math.Min(events, int.MaxValue / 2)),
    };

    /// <summary>Managed heap growth per account for a ledger holding only accounts (ids as the harness makes them).</summary>
    private static long MeasureBytesPerAccount(int accounts)
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var ledger = new Ledger();
        ushort usd = CurrencyCode.Pack("USD");
        for (int n = 0; n < accounts; n++)
        {
            ledger.Apply(new LedgerEvent
            {
                Sequence = n + 1,
                TimestampUnixMs = 1,
                Type = EventType.AccountOpened,
                Command = CommandType.OpenAccount,
                RequestId = "",
                AccountId = PipelineBenchmark.AccountId(n),
                CustomerId = $"cust-{n}",
                CurrencyCode = usd,
                AmountMinor = 1_000_000_00,
                AvailableMinor = 1_000_000_00,
            });
        }
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(ledger);
        return (after - before) / accounts;
    }

    private static async Task GenerateAsync(CreditEngine engine, int accounts, long count)
    {
        const int batch = 8192;
        const int lanes = 4;
        long perLane = count / lanes;
        var tasks = new Task[lanes];
        for (int lane = 0; lane < lanes; lane++)
        {
            long laneCount = lane == lanes - 1 ? count - perLane * (lanes - 1) : perLane;
            int laneId = lane;
            tasks[lane] = Task.Run(async () =>
            {
                var random = new Random(laneId);
                var commands = new Command[batch];
                var replies = new Reply[batch];
                var recent = new List<string>();
                long produced = 0;
                while (produced < laneCount)
                {
                    int size = (int)Math.Min(batch, laneCount - produced);
                    for (int i = 0; i < size; i++)
                    {
                        string requestId = $"g{laneId}-{produced + i}";
                        int roll = random.Next(100);
                        if (roll < 15 && recent.Count > 0)
                        {
                            int pick = random.Next(recent.Count);
                            commands[i] = Command.Capture(requestId, recent[pick], random.Next(1, 5_000), final: true);
                            recent[pick] = recent[^1];
                            recent.RemoveAt(recent.Count - 1);
                        }
                        else if (roll < 25)
                        {
                            commands[i] = Command.Repay(requestId, PipelineBenchmark.AccountId(random.Next(accounts)), random.Next(1, 10_000));
                        }
                        else
                        {
                            commands[i] = Command.Authorize(requestId, PipelineBenchmark.AccountId(random.Next(accounts)), random.Next(100, 10_000), "USD");
                        }
                    }
                    await engine.SubmitBatchAsync(commands.AsMemory(0, size), replies, waitForCapacity: true);
                    for (int i = 0; i < size; i++)
                    {
                        if (commands[i].Type == CommandType.Authorize && replies[i].Status == Status.Ok && recent.Count < 100_000) recent.Add(commands[i].RequestId);
                    }
                    produced += size;
                }
            });
        }
        await Task.WhenAll(tasks);
    }
}
