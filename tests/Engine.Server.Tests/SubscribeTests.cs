using Credit.V1;
using Grpc.Core;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>docs/SPEC.md "Events": durable events in dense sequence order; resuming from last_seen + 1 has no gap and no duplicate.</summary>
public sealed class SubscribeTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(null, "--Server:SubscribeBatchEventsMax=7", "--ReadModel:SequenceIndexStride=16");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Resuming_from_last_seen_plus_one_sees_no_gap_and_no_duplicate_through_catch_up_and_live_tail()
    {
        string account = await OpenAccountAsync(_server, creditLimit: 1_000_000);
        long lastWritten = await RepayManyAsync(account, 120);

        // First subscriber: catch-up from the start, stops part-way.
        var seen = new List<LedgerEvent>();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        using (var call = _server.Events.Subscribe(new SubscribeRequest { FromSequence = 0 }, cancellationToken: cts.Token))
        {
            while (seen.Count < 50 && await call.ResponseStream.MoveNext(cts.Token)) seen.AddRange(call.ResponseStream.Current.Events);
        }
        long lastSeen = seen[^1].Sequence;

        // Resume: catch-up from last_seen + 1 (through the index), then live events written while subscribed.
        using var resumeCts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var resumed = _server.Events.Subscribe(new SubscribeRequest { FromSequence = lastSeen + 1 }, cancellationToken: resumeCts.Token);
        Task<long> live = RepayManyAsync(account, 40);
        // Nothing else writes to this engine (no holds, so no expiries): the live writes end exactly 40 later.
        long target = lastWritten + 40;
        while (seen[^1].Sequence < target)
        {
            Assert.True(await resumed.ResponseStream.MoveNext(resumeCts.Token));
            seen.AddRange(resumed.ResponseStream.Current.Events);
        }
        Assert.Equal(target, await live);
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(i => (long)i), seen.Select(e => e.Sequence));
        Assert.Equal(EventType.AccountOpened, seen[0].Type);
        Assert.All(seen.Skip(1).Take(120), e => Assert.Equal(EventType.Repaid, e.Type));
    }

    [Fact]
    public async Task A_negative_from_sequence_is_invalid_argument()
    {
        using var call = _server.Events.Subscribe(new SubscribeRequest { FromSequence = -1 }, Deadline());
        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        AssertInvalidArgument(e, "from_sequence");
    }

    private async Task<long> RepayManyAsync(string account, int count)
    {
        long last = 0;
        for (int i = 0; i < count; i++)
            last = (await _server.Authorization.RepayAsync(new RepayRequest { RequestId = Id("pay"), AccountId = account, Amount = 1 }, Deadline())).Sequence;
        return last;
    }
}
