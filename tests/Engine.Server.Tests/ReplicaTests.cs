using System.Net;
using System.Net.Sockets;
using Credit.V1;
using Engine.Client;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using static Engine.Server.Tests.Wire;
using Status = Credit.V1.Status;

namespace Engine.Server.Tests;

/// <summary>
/// Read replicas (issue #4): separate server processes that follow the leader's event stream, apply it with the same
/// Ledger.Apply, persist their own snapshot and log, and serve queries with read-your-writes.
/// </summary>
public sealed class ReplicaTests
{
    private const int AccountCount = 12;

    [Fact]
    public async Task Two_replicas_one_chained_serve_the_leaders_writes_at_min_sequence_and_refuse_commands()
    {
        await using TestServer leader = await TestServer.StartAsync();
        List<string> accounts = await OpenAccountsAsync(leader, AccountCount);
        using ChildServer first = await StartReplicaAsync(leader.Address);
        using ChildServer chained = await StartReplicaAsync(first.Address);

        long last = await WriteLoadAsync(leader, accounts, batches: 4, perBatch: 500);

        foreach (ChildServer replica in new[] { first, chained })
        {
            foreach (string account in accounts)
            {
                GetAccountResponse expected = await leader.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = last }, Deadline(30));
                GetAccountResponse actual = await replica.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = last }, Deadline(30));
                Assert.True(actual.Sequence >= last, "an answer at min_sequence reflects at least that sequence");
                Assert.Equal(expected.Account, actual.Account);
                ListAuthorizationsResponse leaderAuthorizations = await leader.Queries.ListAuthorizationsAsync(new ListAuthorizationsRequest { AccountId = account, Filter = AuthorizationFilter.All, PageSize = 1000 }, Deadline(30));
                ListAuthorizationsResponse replicaAuthorizations = await replica.Queries.ListAuthorizationsAsync(new ListAuthorizationsRequest { AccountId = account, Filter = AuthorizationFilter.All, PageSize = 1000, MinSequence = last }, Deadline(30));
                Assert.Equal(leaderAuthorizations.Authorizations, replicaAuthorizations.Authorizations);
            }
        }

        // The same state, bit for bit, everywhere.
        string leaderDigest = (await StatusOf(leader.Channel, digest: true)).StateDigest;
        Assert.Equal(leaderDigest, (await StatusOf(first.Channel, digest: true)).StateDigest);
        Assert.Equal(leaderDigest, (await StatusOf(chained.Channel, digest: true)).StateDigest);

        // Commands are refused, naming where to send them.
        var refused = await Assert.ThrowsAsync<RpcException>(() => first.Authorization.AuthorizeAsync(
            new AuthorizeRequest { RequestId = Id("auth"), AccountId = accounts[0], Amount = 1, Currency = "USD" }, Deadline()).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains(leader.Address, refused.Status.Detail);
        var refusedChained = await Assert.ThrowsAsync<RpcException>(() => chained.Accounts.OpenAccountAsync(
            new OpenAccountRequest { RequestId = Id("open"), AccountId = Id("acct"), CustomerId = "c", Currency = "USD", CreditLimit = 1 }, Deadline()).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, refusedChained.StatusCode);
        Assert.Contains(first.Address, refusedChained.Status.Detail);

        // Each server shows who follows it and how far they got; replicas show their upstream and lag.
        ReplicationStatus leaderStatus = await StatusOf(leader.Channel);
        Assert.Equal(ServerRole.Leader, leaderStatus.Role);
        SubscriberStatus follower = Assert.Single(leaderStatus.Subscribers);
        Assert.StartsWith("replica@", follower.Name);
        Assert.Equal(nameof(SubscribeFormat.EventBlocks), follower.Format);
        Assert.Equal(last, follower.SentSequence);
        ReplicationStatus firstStatus = await StatusOf(first.Channel);
        Assert.Equal(ServerRole.ReadReplica, firstStatus.Role);
        Assert.True(firstStatus.LeaderConnected);
        Assert.Equal(leader.Address, firstStatus.LeaderUrl);
        Assert.Equal((last, last, 0L, 0L), (firstStatus.AppliedSequence, firstStatus.HeadSequence, firstStatus.LagEvents, firstStatus.LagMs));
        Assert.Single(firstStatus.Subscribers);

        // The SDK sends queries to replicas with the last sequence it saw: a read right after a write sees it.
        using var sdk = new CreditEngineClient(leader.Address, new CreditEngineClientOptions { ReplicaAddresses = [first.Address, chained.Address] });
        for (int i = 0; i < 4; i++)
        {
            GetAccountResponse before = await sdk.GetAccountAsync(new GetAccountRequest { AccountId = accounts[1] });
            AuthorizeResponse authorized = await sdk.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("ryw"), AccountId = accounts[1], Amount = 7, Currency = "USD" });
            Assert.Equal(Status.Ok, authorized.Status);
            GetAccountResponse after = await sdk.GetAccountAsync(new GetAccountRequest { AccountId = accounts[1] });
            Assert.True(after.Sequence >= authorized.Sequence);
            Assert.Equal(before.Account.Held + 7, after.Account.Held);
        }
    }

    [Fact]
    public async Task ListEvents_on_a_replica_pages_through_an_accounts_whole_history_from_its_log()
    {
        await using TestServer leader = await TestServer.StartAsync();
        List<string> accounts = await OpenAccountsAsync(leader, 2);
        using ChildServer replica = await StartReplicaAsync(leader.Address);
        // 3,000 authorizations on one account: far more than one page, all kept (history is on disk, 8 bytes an event in memory).
        long last = await WriteLoadAsync(leader, [accounts[0]], batches: 3, perBatch: 1000);

        var sequences = new List<long>();
        long from = 0;
        long oldest = 0;
        for (int page = 0; page < 10; page++)
        {
            ListEventsResponse response = await replica.Queries.ListEventsAsync(new ListEventsRequest { AccountId = accounts[0], FromSequence = from, Limit = 1000, MinSequence = last }, Deadline(30));
            Assert.All(response.Events, e => Assert.Equal(accounts[0], e.AccountId));
            sequences.AddRange(response.Events.Select(e => e.Sequence));
            oldest = response.OldestRetainedSequence;
            if (response.NextFromSequence == 0) break;
            from = response.NextFromSequence;
        }
        Assert.Equal(1 + 3000, sequences.Count); // the account's opening, then every authorization
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(sequences.Distinct().Count(), sequences.Count);
        Assert.Equal(sequences[0], oldest);
        Assert.Equal(last, sequences[^1]);
    }

    [Fact]
    public async Task History_beyond_its_bound_drops_the_oldest_and_says_where_it_now_starts()
    {
        await using TestServer leader = await TestServer.StartAsync(null, "--ReadModel:HistoryEventsMax=1000", "--ReadModel:SequenceIndexStride=16");
        List<string> accounts = await OpenAccountsAsync(leader, 1);
        long last = await WriteLoadAsync(leader, accounts, batches: 6, perBatch: 500);

        ListEventsResponse page = await leader.Queries.ListEventsAsync(new ListEventsRequest { AccountId = accounts[0], Limit = 1000, MinSequence = last }, Deadline(30));
        Assert.True(page.OldestRetainedSequence > 1, "the oldest events were dropped");
        Assert.Equal(page.OldestRetainedSequence, page.Events[0].Sequence);
        Assert.True(page.Events.Count <= 1000);
        var tail = await leader.Queries.ListEventsAsync(new ListEventsRequest { AccountId = accounts[0], FromSequence = last, Limit = 10 }, Deadline(30));
        Assert.Equal(last, Assert.Single(tail.Events).Sequence);
    }

    [Fact]
    public async Task A_replica_killed_with_minus_9_mid_stream_restarts_from_its_own_disk_and_converges_account_by_account()
    {
        await using TestServer leader = await TestServer.StartAsync();
        List<string> accounts = await OpenAccountsAsync(leader, AccountCount);
        string replicaDirectory = TestServer.NewDataDirectory();
        long appliedAtKill;
        Task<long> load;
        using (ChildServer replica = await StartReplicaAsync(leader.Address, replicaDirectory))
        {
            load = WriteLoadAsync(leader, accounts, batches: 40, perBatch: 500);
            await WaitUntilAsync(async () => (await StatusOf(replica.Channel)).AppliedSequence >= 5_000, TimeSpan.FromSeconds(60), "the replica to apply 5,000 events");
            appliedAtKill = (await StatusOf(replica.Channel)).AppliedSequence;
            replica.KillHard();
        }
        long last = await load;
        Assert.True(appliedAtKill < last, "the replica was killed while the leader was still writing");

        using ChildServer restarted = await StartReplicaAsync(leader.Address, replicaDirectory);
        ReplicationStatus status = await StatusOf(restarted.Channel);
        Assert.True(status.RecoveredSequence >= 1_000, $"the replica resumed from its own snapshot and log (recovered {status.RecoveredSequence}), not from the beginning");
        Assert.True(status.RecoveredSequence <= appliedAtKill);

        foreach (string account in accounts)
        {
            GetAccountResponse expected = await leader.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = last }, Deadline(30));
            GetAccountResponse actual = await restarted.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = last }, Deadline(60));
            Assert.Equal(expected.Account, actual.Account);
        }
        Assert.Equal((await StatusOf(leader.Channel, digest: true)).StateDigest, (await StatusOf(restarted.Channel, digest: true)).StateDigest);
        // History survived the crash too: every event of an account, once.
        ListEventsResponse history = await restarted.Queries.ListEventsAsync(new ListEventsRequest { AccountId = accounts[0], Limit = 1000 }, Deadline(30));
        ListEventsResponse leaderHistory = await leader.Queries.ListEventsAsync(new ListEventsRequest { AccountId = accounts[0], Limit = 1000 }, Deadline(30));
        Assert.Equal(leaderHistory.Events, history.Events);
    }

    [Fact]
    public async Task A_replica_keeps_serving_labelled_answers_while_the_leader_is_down_and_resumes_after_it_restarts()
    {
        string leaderDirectory = TestServer.NewDataDirectory();
        string leaderUrl = $"http://127.0.0.1:{FreePort()}";
        List<string> accounts;
        long before;
        ChildServer leader = await ChildServer.StartAsync(leaderDirectory, "--urls", leaderUrl);
        using ChildServer replica = await StartReplicaAsync(leaderUrl);
        try
        {
            accounts = await OpenAccountsAsync(leader.Channel, 3);
            before = await WriteLoadAsync(leader.Channel, accounts, batches: 2, perBatch: 200);
            await replica.Queries.GetAccountAsync(new GetAccountRequest { AccountId = accounts[0], MinSequence = before }, Deadline(30));

            Assert.Equal(0, await leader.TerminateAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            leader.Dispose();
        }

        await WaitUntilAsync(async () => !(await StatusOf(replica.Channel)).LeaderConnected, TimeSpan.FromSeconds(30), "the replica to notice the leader is gone");
        ReplicationStatus down = await StatusOf(replica.Channel);
        Assert.NotEmpty(down.LastError);
        Assert.Equal(before, down.AppliedSequence);
        // Still answering, labelled: the sequence it reflects and that its leader is not connected.
        using (var call = replica.Queries.GetAccountAsync(new GetAccountRequest { AccountId = accounts[0] }, Deadline(10)))
        {
            GetAccountResponse stale = await call.ResponseAsync;
            Assert.Equal(before, stale.Sequence);
            Assert.Equal("false", call.GetTrailers().GetValue("credit-leader-connected"));
            Assert.Equal(before.ToString(System.Globalization.CultureInfo.InvariantCulture), call.GetTrailers().GetValue("credit-applied-sequence"));
        }
        // Never a stale answer presented as fresh: asking for a newer sequence times out.
        var notYet = await Assert.ThrowsAsync<RpcException>(() => replica.Queries.GetAccountAsync(
            new GetAccountRequest { AccountId = accounts[0], MinSequence = before + 1 }, Deadline(0.5)).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, notYet.StatusCode);

        using ChildServer restarted = await ChildServer.StartAsync(leaderDirectory, "--urls", leaderUrl);
        long after = await WriteLoadAsync(restarted.Channel, accounts, batches: 2, perBatch: 200);
        Assert.True(after > before);
        foreach (string account in accounts)
        {
            GetAccountResponse expected = await restarted.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = after }, Deadline(30));
            GetAccountResponse actual = await replica.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = after }, Deadline(60));
            Assert.Equal(expected.Account, actual.Account);
        }
        ReplicationStatus resumed = await StatusOf(replica.Channel);
        Assert.True(resumed.LeaderConnected);
        Assert.True(resumed.Reconnects >= 2, "it reconnected after the restart");
    }

    [Fact]
    public async Task A_stalled_subscriber_does_not_hold_up_the_leader()
    {
        await using TestServer leader = await TestServer.StartAsync();
        List<string> accounts = await OpenAccountsAsync(leader, 4);
        // A subscriber that never reads: once HTTP/2 flow control fills, the server cannot send it anything more.
        using var stalledChannel = GrpcChannel.ForAddress(leader.Address);
        using var stalled = new EventService.EventServiceClient(stalledChannel).Subscribe(new SubscribeRequest { FromSequence = 1, SubscriberName = "stalled" });
        await stalled.ResponseHeadersAsync;

        // Every command completes (bounded by its deadline) while the subscriber reads nothing.
        long last = await WriteLoadAsync(leader, accounts, batches: 40, perBatch: 1000);
        GetAccountResponse state = await leader.Queries.GetAccountAsync(new GetAccountRequest { AccountId = accounts[0], MinSequence = last }, Deadline(30));
        Assert.True(state.Sequence >= last);

        ReplicationStatus status = await StatusOf(leader.Channel);
        SubscriberStatus subscriber = Assert.Single(status.Subscribers);
        Assert.Equal("stalled", subscriber.Name);
        Assert.True(subscriber.SentSequence < last, "the stalled subscriber fell behind instead of holding the leader back");
        Assert.Equal(last - subscriber.SentSequence, subscriber.LagEvents);
    }

    internal static Task<ChildServer> StartReplicaAsync(string upstream, string? dataDirectory = null) =>
        ChildServer.StartAsync(dataDirectory ?? TestServer.NewDataDirectory(),
            "--Engine:Mode=ReadReplica", $"--Engine:LeaderUrl={upstream}",
            "--ReadModel:SnapshotEveryEvents=1000", "--Replica:ReconnectDelayMaxMs=300");

    internal static async Task<ReplicationStatus> StatusOf(GrpcChannel channel, bool digest = false) =>
        await new ReplicationService.ReplicationServiceClient(channel).GetStatusAsync(new GetReplicationStatusRequest { IncludeDigest = digest }, Deadline(30));

    private static Task<List<string>> OpenAccountsAsync(TestServer server, int count) => OpenAccountsAsync(server.Channel, count);

    internal static async Task<List<string>> OpenAccountsAsync(GrpcChannel channel, int count)
    {
        var client = new AccountService.AccountServiceClient(channel);
        var accounts = new List<string>();
        for (int i = 0; i < count; i++)
        {
            string account = Id("acct");
            OpenAccountResponse reply = await client.OpenAccountAsync(new OpenAccountRequest { RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 1_000_000_000 }, Deadline(30));
            Assert.Equal(Status.Ok, reply.Status);
            accounts.Add(account);
        }
        return accounts;
    }

    private static Task<long> WriteLoadAsync(TestServer server, List<string> accounts, int batches, int perBatch) =>
        WriteLoadAsync(server.Channel, accounts, batches, perBatch);

    /// <summary>Authorizations of 1..7 round-robin over the accounts through Execute; returns the last reply's sequence.</summary>
    internal static async Task<long> WriteLoadAsync(GrpcChannel channel, List<string> accounts, int batches, int perBatch)
    {
        using var call = new PipelineService.PipelineServiceClient(channel).Execute(Deadline(120));
        long last = 0;
        for (int b = 0; b < batches; b++)
        {
            var request = new ExecuteRequest { BatchId = (ulong)b };
            for (int i = 0; i < perBatch; i++)
            {
                request.Commands.Add(new Command { Authorize = new AuthorizeRequest { RequestId = Id("load"), AccountId = accounts[(b * perBatch + i) % accounts.Count], Amount = 1 + i % 7, Currency = "USD" } });
            }
            await call.RequestStream.WriteAsync(request);
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            ExecuteResponse response = call.ResponseStream.Current;
            Assert.All(response.Replies, reply => Assert.Equal(Status.Ok, reply.Status));
            last = response.Replies[^1].Sequence;
        }
        await call.RequestStream.CompleteAsync();
        return last;
    }

    /// <summary>
    /// A port that is free now and stays ours across a restart: below Linux's ephemeral range (32768+), so no other
    /// test's OS-chosen port can take it between the two starts.
    /// </summary>
    internal static int FreePort()
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            int port = Random.Shared.Next(20_000, 32_000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // taken: try another
            }
        }
        throw new InvalidOperationException("no free port in 20000..32000");
    }
}

/// <summary>Log retention on the leader, as seen by the read model and by read replicas.</summary>
public sealed class RetentionReplicaTests
{
    private static readonly string[] SmallRetention =
    [
        "--Engine:TruncateJournal=true", "--Engine:Retention:EventAgeMinMs=0", "--Engine:SnapshotEveryEvents=2000", "--Engine:JournalSegmentSizeBits=20",
        "--ReadModel:SnapshotEveryEvents=100000000",
    ];

    [Fact]
    public async Task A_replica_behind_the_leaders_log_retention_rebuilds_from_the_leaders_snapshot_and_converges()
    {
        await using TestServer leader = await TestServer.StartAsync(null, SmallRetention);
        List<string> accounts = await ReplicaTests.OpenAccountsAsync(leader.Channel, 6);
        string replicaDirectory = TestServer.NewDataDirectory();
        long stoppedAt;
        using (ChildServer replica = await ReplicaTests.StartReplicaAsync(leader.Address, replicaDirectory))
        {
            long first = await ReplicaTests.WriteLoadAsync(leader.Channel, accounts, batches: 2, perBatch: 200);
            await replica.Queries.GetAccountAsync(new GetAccountRequest { AccountId = accounts[0], MinSequence = first }, Deadline(30));
            stoppedAt = (await ReplicaTests.StatusOf(replica.Channel)).AppliedSequence;
            Assert.Equal(0, await replica.TerminateAsync(TimeSpan.FromSeconds(60)));
        }

        // While the replica is away the leader writes on and its retention deletes the part of the log the replica needs.
        long last = await ReplicaTests.WriteLoadAsync(leader.Channel, accounts, batches: 30, perBatch: 1000);
        var engine = leader.Services.GetRequiredService<Engine.Server.Hosting.EngineHost>().Engine;
        await WaitUntilAsync(() => Task.FromResult(engine.Journal.BeginAddress > Engine.Journal.EventJournal.FirstValidAddress), TimeSpan.FromSeconds(60), "the leader to truncate its log");
        var tooOld = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = leader.Events.Subscribe(new SubscribeRequest { FromSequence = stoppedAt + 1 }, Deadline(30));
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });
        Assert.Equal(StatusCode.OutOfRange, tooOld.StatusCode);

        using ChildServer restarted = await ReplicaTests.StartReplicaAsync(leader.Address, replicaDirectory);
        foreach (string account in accounts)
        {
            GetAccountResponse expected = await leader.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = last }, Deadline(30));
            GetAccountResponse actual = await restarted.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = last }, Deadline(60));
            Assert.Equal(expected.Account, actual.Account);
        }
        ReplicationStatus status = await ReplicaTests.StatusOf(restarted.Channel, digest: true);
        Assert.Equal(1, status.SnapshotRebuilds);
        Assert.Equal((await ReplicaTests.StatusOf(leader.Channel, digest: true)).StateDigest, status.StateDigest);
        Assert.Contains("fell behind", restarted.Output);
    }

    [Fact]
    public async Task After_retention_the_leaders_read_model_restarts_from_a_snapshot_with_the_same_balances()
    {
        string directory = TestServer.NewDataDirectory();
        List<string> accounts;
        var before = new List<GetAccountResponse>();
        await using (TestServer leader = await TestServer.StartAsync(directory, SmallRetention))
        {
            accounts = await ReplicaTests.OpenAccountsAsync(leader.Channel, 4);
            long last = await ReplicaTests.WriteLoadAsync(leader.Channel, accounts, batches: 30, perBatch: 1000);
            var engine = leader.Services.GetRequiredService<Engine.Server.Hosting.EngineHost>().Engine;
            await WaitUntilAsync(() => Task.FromResult(engine.Journal.BeginAddress > Engine.Journal.EventJournal.FirstValidAddress), TimeSpan.FromSeconds(60), "the leader to truncate its log");
            foreach (string account in accounts)
                before.Add(await leader.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = last }, Deadline(30)));
        }
        // Without its own snapshot, the read model cannot replay from the first event any more: it starts from the engine's.
        Directory.Delete(Path.Combine(directory, "readmodel"), recursive: true);

        await using TestServer restarted = await TestServer.StartAsync(directory, SmallRetention);
        for (int i = 0; i < accounts.Count; i++)
        {
            GetAccountResponse after = await restarted.Queries.GetAccountAsync(new GetAccountRequest { AccountId = accounts[i], MinSequence = before[i].Sequence }, Deadline(30));
            Assert.Equal(before[i].Account, after.Account);
        }
        ListEventsResponse history = await restarted.Queries.ListEventsAsync(new ListEventsRequest { AccountId = accounts[0], Limit = 10 }, Deadline(30));
        // History before the engine's snapshot went with the truncated log (the account's opening among it).
        Assert.True(history.OldestRetainedSequence == 0 || history.OldestRetainedSequence > accounts.Count);
        Assert.All(history.Events, e => Assert.True(e.Sequence > accounts.Count));
    }
}
