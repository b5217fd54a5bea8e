using Credit.V1;
using Grpc.Core;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>
/// Named durable consumers over gRPC (Subscribe with durable_cursor, AcknowledgeCursor, DeleteCursor, GetStatus), on a
/// leader whose retention would otherwise truncate after every snapshot: no age floor, a snapshot every 500 events,
/// 64 KiB pages, a retention pass every 100 ms.
/// </summary>
public sealed class DurableCursorTests
{
    private static readonly string[] TinyRetention =
    [
        "--Engine:TruncateJournal=true", "--Engine:Retention:EventAgeMinMs=0", "--Engine:Retention:CheckIntervalMs=100",
        "--Engine:SnapshotEveryEvents=500", "--Engine:JournalPageSizeBits=16", "--Engine:JournalMemorySizeBits=18",
        "--Engine:JournalRecordBytesMax=32768", "--ReadModel:SnapshotEveryEvents=100000000",
    ];

    private static async Task<ReplicationStatus> StatusAsync(TestServer server) =>
        await new ReplicationService.ReplicationServiceClient(server.Channel).GetStatusAsync(new GetReplicationStatusRequest(), Deadline());

    [Fact]
    public async Task A_named_consumer_away_past_several_snapshots_resumes_from_its_cursor_with_every_sequence_exactly_once()
    {
        await using TestServer server = await TestServer.StartAsync(null, TinyRetention);
        List<string> accounts = await ReplicaTests.OpenAccountsAsync(server.Channel, 4);

        // The consumer reads a little, acknowledges it, and goes away.
        long acked;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await foreach (LedgerEvent e in server.Sdk.SubscribeAsync("statements", fromSequence: 1, cts.Token))
            {
                if (e.Sequence < 3) continue;
                acked = e.Sequence;
                Assert.Equal(3, await server.Sdk.AcknowledgeCursorAsync("statements", acked));
                break;
            }
        }

        // While it is away: ten snapshots' worth of events. Without the cursor the begin would follow the snapshots.
        long last = await ReplicaTests.WriteLoadAsync(server.Channel, accounts, batches: 10, perBatch: 500);
        await WaitUntilAsync(async () => (await StatusAsync(server)).Retention.HeldBy == "cursor:statements", TimeSpan.FromSeconds(20),
            "retention held by the cursor once snapshots passed it");
        ReplicationStatus status = await StatusAsync(server);
        ConsumerCursorStatus cursor = Assert.Single(status.Cursors);
        Assert.Equal("statements", cursor.Name);
        Assert.Equal(3, cursor.AckedSequence);
        Assert.False(cursor.Dropped);
        Assert.True(cursor.LagBytes > 0);
        Assert.True(status.Retention.OldestSequence <= 4);

        // Back: from_sequence 0 resumes at the cursor (acknowledged + 1); every later sequence exactly once.
        var seen = new List<long>();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await foreach (LedgerEvent e in server.Sdk.SubscribeAsync("statements", fromSequence: 0, cts.Token))
            {
                seen.Add(e.Sequence);
                if (e.Sequence >= last) break;
            }
        }
        Assert.Equal(Enumerable.Range(4, (int)(last - 3)).Select(i => (long)i), seen);

        // Acknowledging everything releases the log: retention truncates, and a plain subscriber from 1 is now out of range.
        await server.Sdk.AcknowledgeCursorAsync("statements", last);
        await WaitUntilAsync(async () => (await StatusAsync(server)).Retention.OldestSequence > 4, TimeSpan.FromSeconds(20),
            "retention released what the cursor acknowledged");
        using var plain = server.Events.Subscribe(new SubscribeRequest { FromSequence = 1 }, Deadline());
        var outOfRange = await Assert.ThrowsAsync<RpcException>(() => plain.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.OutOfRange, outOfRange.StatusCode);
    }

    [Fact]
    public async Task A_cursor_past_its_max_lag_is_dropped_reported_in_GetStatus_and_refused_on_its_next_Subscribe()
    {
        await using TestServer server = await TestServer.StartAsync(null, [.. TinyRetention, "--Engine:Retention:CursorLagBytesMax=65536"]);
        List<string> accounts = await ReplicaTests.OpenAccountsAsync(server.Channel, 4);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        using (var call = server.Events.Subscribe(new SubscribeRequest { SubscriberName = "collections", DurableCursor = true, FromSequence = 1 }, cancellationToken: cts.Token))
        {
            Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        }
        await ReplicaTests.WriteLoadAsync(server.Channel, accounts, batches: 10, perBatch: 500); // far more than 64 KiB of log

        await WaitUntilAsync(async () => (await StatusAsync(server)).Cursors.SingleOrDefault()?.Dropped == true, TimeSpan.FromSeconds(20), "the cursor dropped");
        ReplicationStatus status = await StatusAsync(server);
        ConsumerCursorStatus cursor = status.Cursors.Single();
        Assert.Contains("CursorLagBytesMax", cursor.DroppedReason, StringComparison.Ordinal);
        Assert.True(cursor.DroppedAtUnixMs > 0);
        Assert.Contains("DROPPED", status.Retention.LastWarning, StringComparison.Ordinal);
        Assert.NotEqual("cursor:collections", status.Retention.HeldBy);

        using var again = server.Events.Subscribe(new SubscribeRequest { SubscriberName = "collections", DurableCursor = true }, Deadline());
        var refused = await Assert.ThrowsAsync<RpcException>(() => again.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("cursor 'collections' was dropped", refused.Status.Detail, StringComparison.Ordinal);
        var ack = await Assert.ThrowsAsync<RpcException>(() => server.Sdk.AcknowledgeCursorAsync("collections", 1));
        Assert.Equal(StatusCode.FailedPrecondition, ack.StatusCode);

        Assert.True(await server.Sdk.DeleteCursorAsync("collections"));
        Assert.Empty((await StatusAsync(server)).Cursors);
    }

    [Fact]
    public async Task Cursor_requests_with_bad_input_are_refused_naming_the_field()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var unnamed = server.Events.Subscribe(new SubscribeRequest { DurableCursor = true }, Deadline());
        AssertInvalidArgument(await Assert.ThrowsAsync<RpcException>(() => unnamed.ResponseStream.MoveNext(CancellationToken.None)), "subscriber_name");
        AssertInvalidArgument(await Assert.ThrowsAsync<RpcException>(() =>
            server.Events.AcknowledgeCursorAsync(new AcknowledgeCursorRequest { SubscriberName = "x", Sequence = -1 }, Deadline()).ResponseAsync), "sequence");
        AssertInvalidArgument(await Assert.ThrowsAsync<RpcException>(() =>
            server.Events.AcknowledgeCursorAsync(new AcknowledgeCursorRequest { SubscriberName = "x", Sequence = 1_000_000 }, Deadline()).ResponseAsync), "sequence");
        var unknown = await Assert.ThrowsAsync<RpcException>(() => server.Events.AcknowledgeCursorAsync(new AcknowledgeCursorRequest { SubscriberName = "nobody", Sequence = 0 }, Deadline()).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }
}
