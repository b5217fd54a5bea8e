using Credit.V1;
using Engine.Client;
using Grpc.Core;
using static Engine.Server.Tests.Wire;
using Status = Credit.V1.Status;

namespace Engine.Server.Tests;

/// <summary>The .NET SDK against a real server: typed calls, retries that reuse the request_id, the Execute batcher.</summary>
public sealed class SdkTests
{
    [Fact]
    public async Task Batcher_packs_concurrent_commands_into_Execute_and_resends_ring_full_ones_until_all_are_answered()
    {
        // A 64-slot ring overflows under this load, so some commands come back ENGINE_UNAVAILABLE and are resent.
        await using TestServer server = await TestServer.StartAsync(null, "--Engine:RingSize=64");
        // Bounded by the deadlines below, not by attempts: on a loaded 2-core machine the resends can take many rounds.
        using var client = new CreditEngineClient(server.Address, new CreditEngineClientOptions { MaxAttempts = 10_000, MaxBackoff = TimeSpan.FromMilliseconds(50) });
        string account = Id("acct");
        OpenAccountResponse opened = await client.OpenAccountAsync(new OpenAccountRequest { RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 1_000_000 });
        Assert.Equal(Status.Ok, opened.Status);

        const int commands = 3_000;
        await using (CommandBatcher batcher = client.CreateBatcher(new CommandBatcherOptions { BatchSizeMax = 500 }))
        {
            Task<CommandReply>[] pending = [.. Enumerable.Range(0, commands).Select(_ =>
                batcher.SubmitAsync(new Command { Repay = new RepayRequest { RequestId = Id("pay"), AccountId = account, Amount = 1 } }, TimeSpan.FromSeconds(60)))];
            CommandReply[] replies = await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.All(replies, reply => Assert.Equal(Status.Ok, reply.Status));
            Assert.Equal(commands, replies.Select(r => r.Sequence).Distinct().Count());
        }

        // Unary calls through the SDK under the same small ring: RESOURCE_EXHAUSTED is retried with the same request.
        AuthorizeResponse[] authorized = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ =>
            client.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 1, Currency = "USD" }, TimeSpan.FromSeconds(30))));
        Assert.All(authorized, reply => Assert.True(reply.Approved));

        GetAccountResponse state = await client.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = authorized.Max(a => a.Sequence) });
        Assert.Equal((-(long)commands, 200L), (state.Account.Posted, state.Account.Held));
    }

    [Fact]
    public async Task Sdk_subscribe_streams_dense_events_and_invalid_input_is_not_retried()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var client = new CreditEngineClient(server.Address);
        string account = Id("acct");
        await client.OpenAccountAsync(new OpenAccountRequest { RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 10 });
        for (int i = 0; i < 5; i++) await client.RepayAsync(new RepayRequest { RequestId = Id("pay"), AccountId = account, Amount = 1 });

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<long>();
        await foreach (LedgerEvent e in client.SubscribeAsync(1, cts.Token))
        {
            seen.Add(e.Sequence);
            if (seen.Count == 6) break;
        }
        Assert.Equal([1L, 2, 3, 4, 5, 6], seen);

        var started = DateTime.UtcNow;
        RpcException invalid = await Assert.ThrowsAsync<RpcException>(() => client.RepayAsync(new RepayRequest { RequestId = Id("pay"), AccountId = account, Amount = 0 }));
        AssertInvalidArgument(invalid, "amount");
    }

    [Fact]
    public async Task Sdk_gives_up_with_unavailable_within_its_deadline_when_no_server_listens()
    {
        using var client = new CreditEngineClient("http://127.0.0.1:9", new CreditEngineClientOptions { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(10) });
        RpcException e = await Assert.ThrowsAsync<RpcException>(() => client.RepayAsync(new RepayRequest { RequestId = "r-1", AccountId = "a-1", Amount = 1 }, TimeSpan.FromSeconds(5)));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
    }
}
