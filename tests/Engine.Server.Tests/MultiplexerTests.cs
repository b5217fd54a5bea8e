using System.Collections.Concurrent;
using Credit.V1;
using Engine.Client;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Engine.Server.Tests.Wire;
using Status = Credit.V1.Status;

namespace Engine.Server.Tests;

/// <summary>
/// The SDK's multiplexer (CreditEngineClientOptions.Multiplex): concurrent single-command calls coalesced into Execute
/// batches, with the deadline, retry, idempotency and error semantics of unary calls. Against the real server where
/// the contract is the server's; against a scripted Execute server where the test needs to decide what the server does.
/// </summary>
public sealed class MultiplexerTests
{
    private static CreditEngineClientOptions Multiplexed(int streams = 2, int inFlight = 4, int maxAttempts = 5) => new()
    {
        Multiplex = true,
        Multiplexing = new CommandBatcherOptions { Streams = streams, InFlightBatchesMax = inFlight },
        MaxAttempts = maxAttempts,
        InitialBackoff = TimeSpan.FromMilliseconds(5),
        MaxBackoff = TimeSpan.FromMilliseconds(20),
        DefaultDeadline = TimeSpan.FromSeconds(30),
    };

    private static AuthorizeRequest Authorize(string account, long amount = 1) =>
        new() { RequestId = Id("auth"), AccountId = account, Amount = amount, Currency = "USD" };

    [Fact]
    public async Task Concurrent_callers_each_get_their_own_reply_from_shared_batches()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var client = new CreditEngineClient(server.Address, Multiplexed());
        string account = await OpenAccountAsync(server, 1_000_000);

        AuthorizeRequest[] requests = [.. Enumerable.Range(0, 2_000).Select(_ => Authorize(account))];
        AuthorizeResponse[] replies = await Task.WhenAll(requests.Select(r => Task.Run(() => client.AuthorizeAsync(r)))).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(replies, reply => Assert.True(reply.Approved));
        Assert.Equal(requests.Select(r => r.RequestId), replies.Select(r => r.AuthorizationId));
        Assert.Equal(requests.Length, replies.Select(r => r.Sequence).Distinct().Count());
        Assert.Equal(replies.Max(r => r.Sequence), client.LastSeenSequence);
        Assert.True(client.Multiplexer!.BatchesSent < requests.Length, $"{client.Multiplexer.BatchesSent} batches for {requests.Length} commands");
        GetAccountResponse state = await client.GetAccountAsync(new GetAccountRequest { AccountId = account });
        Assert.Equal(requests.Length, state.Account.Held);
    }

    [Fact]
    public async Task A_resent_request_id_is_answered_with_the_recorded_reply_through_the_multiplexer()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var client = new CreditEngineClient(server.Address, Multiplexed());
        string account = await OpenAccountAsync(server, 100);
        AuthorizeRequest request = Authorize(account, 60);

        AuthorizeResponse first = await client.AuthorizeAsync(request);
        AuthorizeResponse again = await client.AuthorizeAsync(request.Clone());

        Assert.True(first.Approved);
        Assert.False(first.Replayed);
        Assert.True(again.Replayed);
        Assert.Equal(first.Sequence, again.Sequence);
        GetAccountResponse state = await client.GetAccountAsync(new GetAccountRequest { AccountId = account });
        Assert.Equal(60, state.Account.Held);
    }

    [Fact]
    public async Task A_malformed_command_fails_only_its_caller_naming_the_unary_field()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var client = new CreditEngineClient(server.Address, Multiplexed(streams: 1, inFlight: 1));
        string account = await OpenAccountAsync(server, 1_000);

        // Queued together, so the bad one rides in a batch with good ones.
        Task<AuthorizeResponse>[] good = new Task<AuthorizeResponse>[40];
        for (int i = 0; i < 20; i++) good[i] = client.AuthorizeAsync(Authorize(account));
        Task<AuthorizeResponse> bad = client.AuthorizeAsync(Authorize(account, amount: 0));
        Task<RepayResponse> badKind = client.RepayAsync(new RepayRequest { RequestId = Id("pay"), AccountId = "", Amount = 1 });
        for (int i = 20; i < 40; i++) good[i] = client.AuthorizeAsync(Authorize(account));

        AuthorizeResponse[] replies = await Task.WhenAll(good).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(replies, reply => Assert.True(reply.Approved));
        AssertInvalidArgument(await Assert.ThrowsAsync<RpcException>(() => bad), "amount");
        AssertInvalidArgument(await Assert.ThrowsAsync<RpcException>(() => badKind), "account_id");
        GetAccountResponse state = await client.GetAccountAsync(new GetAccountRequest { AccountId = account });
        Assert.Equal(40, state.Account.Held);
    }

    [Fact]
    public async Task Commands_from_concurrent_callers_are_coalesced_while_a_batch_is_in_flight()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using ScriptedServer server = await ScriptedServer.StartAsync(async (request, _) =>
        {
            firstArrived.TrySetResult();
            await gate.Task;
            return ScriptedServer.Ok(request);
        });
        using var client = new CreditEngineClient(server.Address, Multiplexed(streams: 1, inFlight: 1));

        Task<AuthorizeResponse> first = client.AuthorizeAsync(Authorize("a-1"));
        await firstArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Task<AuthorizeResponse>[] rest = [.. Enumerable.Range(0, 300).Select(_ => client.AuthorizeAsync(Authorize("a-1")))];
        gate.SetResult();
        await Task.WhenAll(rest.Append(first)).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, server.Batches.Count);
        Assert.Equal([1, 300], server.Batches.Select(b => b.Commands.Count).Order());
    }

    [Fact]
    public async Task A_call_past_its_deadline_throws_deadline_exceeded_and_a_command_not_yet_sent_is_never_sent()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using ScriptedServer server = await ScriptedServer.StartAsync(async (request, _) =>
        {
            await gate.Task;
            return ScriptedServer.Ok(request);
        });
        using var client = new CreditEngineClient(server.Address, Multiplexed(streams: 1, inFlight: 1));

        AuthorizeRequest sent = Authorize("a-1"), waiting = Authorize("a-1");
        Task<AuthorizeResponse> sentCall = client.AuthorizeAsync(sent, TimeSpan.FromMilliseconds(300));
        await WaitUntilAsync(() => Task.FromResult(server.Batches.Count == 1), TimeSpan.FromSeconds(10), "the first batch");
        Task<AuthorizeResponse> waitingCall = client.AuthorizeAsync(waiting, TimeSpan.FromMilliseconds(300));

        Assert.Equal(StatusCode.DeadlineExceeded, (await Assert.ThrowsAsync<RpcException>(() => sentCall)).StatusCode);
        Assert.Equal(StatusCode.DeadlineExceeded, (await Assert.ThrowsAsync<RpcException>(() => waitingCall)).StatusCode);
        gate.SetResult();
        AuthorizeResponse later = await client.AuthorizeAsync(Authorize("a-1"));

        Assert.True(later.Approved);
        Assert.DoesNotContain(server.Batches.SelectMany(b => b.Commands), c => c.Authorize.RequestId == waiting.RequestId);
    }

    [Fact]
    public async Task Ring_full_replies_and_a_lost_stream_are_resent_with_the_same_request_id()
    {
        var attempts = new ConcurrentDictionary<string, int>();
        int streams = 0;
        await using ScriptedServer server = await ScriptedServer.StartAsync((request, stream) =>
        {
            if (stream == 1 && Interlocked.Increment(ref streams) == 1) throw new RpcException(new global::Grpc.Core.Status(StatusCode.Unavailable, "going away"));
            var response = new ExecuteResponse { BatchId = request.BatchId };
            foreach (Command command in request.Commands)
            {
                int seen = attempts.AddOrUpdate(command.Authorize.RequestId, 1, (_, n) => n + 1);
                response.Replies.Add(seen < 3 ? new CommandReply { Status = Status.EngineUnavailable, ResponseCode = "91" } : ScriptedServer.Approved(command, seen));
            }
            return Task.FromResult(response);
        });
        using var client = new CreditEngineClient(server.Address, Multiplexed(streams: 1));

        AuthorizeRequest request = Authorize("a-1");
        AuthorizeResponse reply = await client.AuthorizeAsync(request).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(reply.Approved);
        Assert.Equal(3, attempts[request.RequestId]); // 2 ring-full answers, then executed; the lost stream's copy never reached the script
        Assert.All(server.Batches.SelectMany(b => b.Commands), c => Assert.Equal(request, c.Authorize));
    }

    [Fact]
    public async Task A_command_still_ring_full_after_every_attempt_fails_with_resource_exhausted()
    {
        int received = 0;
        await using ScriptedServer server = await ScriptedServer.StartAsync((request, _) =>
        {
            Interlocked.Add(ref received, request.Commands.Count);
            var response = new ExecuteResponse { BatchId = request.BatchId };
            for (int i = 0; i < request.Commands.Count; i++) response.Replies.Add(new CommandReply { Status = Status.EngineUnavailable, ResponseCode = "91" });
            return Task.FromResult(response);
        });
        using var client = new CreditEngineClient(server.Address, Multiplexed(maxAttempts: 3));

        RpcException e = await Assert.ThrowsAsync<RpcException>(() => client.AuthorizeAsync(Authorize("a-1")));

        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal(3, Volatile.Read(ref received));
    }

    [Fact]
    public async Task A_refused_stream_fails_the_commands_it_carried_with_the_servers_status()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync((_, _) =>
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.FailedPrecondition, "this server is a read replica")));
        using var client = new CreditEngineClient(server.Address, Multiplexed());

        RpcException e = await Assert.ThrowsAsync<RpcException>(() => client.AuthorizeAsync(Authorize("a-1")));

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
    }

    [Fact]
    public async Task A_multiplexed_call_gives_up_with_unavailable_after_its_attempts_when_no_server_listens()
    {
        using var client = new CreditEngineClient("http://127.0.0.1:9", Multiplexed(maxAttempts: 3));

        RpcException e = await Assert.ThrowsAsync<RpcException>(() => client.AuthorizeAsync(Authorize("a-1"), TimeSpan.FromSeconds(10)));

        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        Assert.Equal(3, client.Multiplexer!.CommandsSent);
    }

    /// <summary>A Kestrel h2c server whose Execute answers each batch with what the script returns (a thrown RpcException ends the stream with it).</summary>
    private sealed class ScriptedServer : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private ScriptedServer(WebApplication app, string address)
        {
            _app = app;
            Address = address;
        }

        public string Address { get; }
        public ConcurrentQueue<ExecuteRequest> Batches => _app.Services.GetRequiredService<Script>().Batches;

        public sealed class Script(Func<ExecuteRequest, int, Task<ExecuteResponse>> answer)
        {
            public readonly Func<ExecuteRequest, int, Task<ExecuteResponse>> Answer = answer;
            public readonly ConcurrentQueue<ExecuteRequest> Batches = new();
            public int Streams;
        }

        public sealed class Pipeline(Script script) : PipelineService.PipelineServiceBase
        {
            public override async Task Execute(IAsyncStreamReader<ExecuteRequest> requestStream, IServerStreamWriter<ExecuteResponse> responseStream, ServerCallContext context)
            {
                int stream = Interlocked.Increment(ref script.Streams);
                while (await requestStream.MoveNext(context.CancellationToken))
                {
                    ExecuteRequest request = requestStream.Current;
                    script.Batches.Enqueue(request);
                    await responseStream.WriteAsync(await script.Answer(request, stream));
                }
            }
        }

        public static CommandReply Approved(Command command, long sequence) => new()
        {
            Approved = true, Status = Status.Ok, ResponseCode = "00", Sequence = sequence, AuthorizationId = command.Authorize?.RequestId ?? "",
        };

        public static ExecuteResponse Ok(ExecuteRequest request)
        {
            var response = new ExecuteResponse { BatchId = request.BatchId };
            foreach (Command command in request.Commands) response.Replies.Add(Approved(command, 1));
            return response;
        }

        public static async Task<ScriptedServer> StartAsync(Func<ExecuteRequest, int, Task<ExecuteResponse>> answer)
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(e => e.Protocols = HttpProtocols.Http2));
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(new Script(answer));
            WebApplication app = builder.Build();
            app.MapGrpcService<Pipeline>();
            await app.StartAsync();
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new ScriptedServer(app, address);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
