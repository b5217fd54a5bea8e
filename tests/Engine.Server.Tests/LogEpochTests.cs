using Credit.V1;
using Engine.Client;
using Engine.Journal;
using Engine.Server.Replication;
using Grpc.Core;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>
/// Damage inside the committed journal is never cut silently; a cut the operator asked for raises the log epoch, and
/// whoever follows the stream (replica, SDK subscriber) stops on the new epoch instead of splicing two histories.
/// </summary>
public sealed class LogEpochTests
{
    private static readonly string[] NoShutdownSnapshot = ["--Engine:SnapshotOnShutdown=false"];

    [Fact]
    public async Task A_server_on_a_journal_damaged_inside_its_committed_range_exits_2_naming_the_address()
    {
        string dataDirectory = TestServer.NewDataDirectory();
        await using (TestServer first = await TestServer.StartAsync(dataDirectory, NoShutdownSnapshot))
        {
            string account = await OpenAccountAsync(first, creditLimit: 1_000);
            for (int i = 0; i < 3; i++) await first.Authorization.RepayAsync(new RepayRequest { RequestId = Id("pay"), AccountId = account, Amount = 1 }, Deadline());
        }
        long damaged = DamageLastCommittedRecord(dataDirectory);

        (int exitCode, string output) = await ChildServer.RunToExitAsync(dataDirectory, TimeSpan.FromSeconds(60));
        Assert.Equal(Engine.Server.Hosting.ServerApp.ExitCodeStartupRefused, exitCode);
        Assert.Contains("FATAL: the server did not start: CommittedTailDamagedException", output, StringComparison.Ordinal);
        Assert.Contains($"the record at address {damaged} fails verification", output, StringComparison.Ordinal);
        Assert.Contains("after sequence 3", output, StringComparison.Ordinal); // OpenAccount + 3 repays; the last is damaged
        Assert.Contains("Engine:Recovery:CutDamagedTail=true", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replica_stops_with_a_clear_error_when_the_leaders_log_epoch_changes()
    {
        string leaderDirectory = TestServer.NewDataDirectory();
        string leaderUrl = $"http://127.0.0.1:{ReplicaTests.FreePort()}";
        ChildServer leader = await ChildServer.StartAsync(leaderDirectory, ["--urls", leaderUrl, .. NoShutdownSnapshot]);
        using ChildServer replica = await ReplicaTests.StartReplicaAsync(leaderUrl);
        try
        {
            List<string> accounts = await ReplicaTests.OpenAccountsAsync(leader.Channel, 2);
            long last = await ReplicaTests.WriteLoadAsync(leader.Channel, accounts, batches: 2, perBatch: 50);
            await replica.Queries.GetAccountAsync(new GetAccountRequest { AccountId = accounts[0], MinSequence = last }, Deadline(30));
            Assert.Equal(0, (await ReplicaTests.StatusOf(replica.Channel)).LogEpoch);
            Assert.Equal(0, await leader.TerminateAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            leader.Dispose();
        }

        DamageLastCommittedRecord(leaderDirectory);
        using ChildServer cut = await ChildServer.StartAsync(leaderDirectory, "--urls", leaderUrl, "--Engine:Recovery:CutDamagedTail=true");
        Assert.Equal(1, (await ReplicaTests.StatusOf(cut.Channel)).LogEpoch);

        await WaitUntilAsync(async () => (await ReplicaTests.StatusOf(replica.Channel)).LastError.Contains("log epoch changed from 0 to 1", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the replica to refuse the leader's new log epoch");
        // It stopped following and serving rather than mixing the two histories.
        RpcException stopped = await Assert.ThrowsAsync<RpcException>(async () =>
            await replica.Queries.GetAccountAsync(new GetAccountRequest { AccountId = "any" }, Deadline(10)));
        Assert.Equal(StatusCode.Unavailable, stopped.StatusCode);
        Assert.Contains("restart it to rebuild from the upstream", (await ReplicaTests.StatusOf(replica.Channel)).LastError, StringComparison.Ordinal);
        // The console logger writes from its own queue, so the log line may land after the status already says it.
        await WaitUntilAsync(() => Task.FromResult(replica.Output.Contains("restart it to rebuild", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the replica to log how to rebuild");
    }

    [Fact]
    public async Task The_sdks_resuming_subscribe_stops_with_LogEpochChangedException_when_the_epoch_changes()
    {
        string dataDirectory = TestServer.NewDataDirectory();
        string url = $"http://127.0.0.1:{ReplicaTests.FreePort()}";
        TestServer first = await TestServer.StartAsync(dataDirectory, ["--urls", url, .. NoShutdownSnapshot]);
        using var client = new CreditEngineClient(url, new CreditEngineClientOptions { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(200) });
        string account = await OpenAccountAsync(first, creditLimit: 1_000);
        for (int i = 0; i < 3; i++) await first.Authorization.RepayAsync(new RepayRequest { RequestId = Id("pay"), AccountId = account, Amount = 1 }, Deadline());

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var seen = new List<long>();
        var fourSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task subscriber = Task.Run(async () =>
        {
            await foreach (LedgerEvent e in client.SubscribeAsync(1, cts.Token))
            {
                lock (seen) seen.Add(e.Sequence);
                if (e.Sequence == 4) fourSeen.SetResult();
            }
        });
        await fourSeen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await first.StopAsync();

        DamageLastCommittedRecord(dataDirectory);
        await using TestServer cut = await TestServer.StartAsync(dataDirectory, "--urls", url, "--Engine:Recovery:CutDamagedTail=true");
        var error = await Assert.ThrowsAsync<LogEpochChangedException>(() => subscriber.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal((0L, 1L, 5L), (error.ExpectedLogEpoch, error.ActualLogEpoch, error.NextSequence));
        lock (seen) Assert.Equal([1L, 2, 3, 4], seen);
    }

    /// <summary>
    /// Cuts the journal's segment file 10 bytes into its last committed record, as a disk that lost acknowledged writes
    /// would leave it; returns that record's address. The journal settings are the test servers' (TestServer.Arguments).
    /// </summary>
    private static long DamageLastCommittedRecord(string dataDirectory)
    {
        string journalDirectory = Path.Combine(dataDirectory, "journal");
        var options = new JournalOptions { DirectoryPath = journalDirectory, PageSizeBits = 20, MemorySizeBits = 22, SegmentSizeBits = 24, RecordBytesMax = 512 * 1024 + 64 };
        long lastAddress = -1;
        using (EventJournal journal = EventJournal.Open(options))
        using (JournalReader reader = journal.OpenReader(journal.BeginAddress))
        {
            while (reader.TryReadNext(out _, out long address, out _)) lastAddress = address;
            Assert.True(reader.EndState.IsClean, reader.EndState.ToString());
        }
        Assert.True(lastAddress > 0, "the journal holds no record");
        string segment = Path.Combine(journalDirectory, $"{EventJournal.SegmentFilePrefix}.{lastAddress >> 24}");
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
            file.SetLength((lastAddress & ((1L << 24) - 1)) + 10);
        return lastAddress;
    }
}
