using System.Security.Claims;
using Credit.V1;
using Engine.ReadModel;
using Engine.Server.Hosting;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Engine.Server.Tests.Wire;
using Status = Credit.V1.Status;

namespace Engine.Server.Tests;

/// <summary>
/// Limits at the edge (issue #14 item 5): each refuses with RESOURCE_EXHAUSTED and a message naming the setting, and
/// the long read-side calls (a state digest, an OPEN page over many closed authorizations) do bounded work that does not
/// hold other queries up. Principals come from a test-only middleware that names the caller from an
/// <c>x-test-principal</c> header, standing in for access control.
/// </summary>
public sealed class EdgeLimitTests
{
    private const string PrincipalHeader = "x-test-principal";

    [Fact]
    public async Task A_Subscribe_beyond_SubscribeStreamsMax_is_refused_RESOURCE_EXHAUSTED_naming_the_setting_and_a_freed_place_is_reusable()
    {
        await using PrincipalServer server = await PrincipalServer.StartAsync("--Server:SubscribeStreamsMax=2", "--Server:SubscribeStreamsPerPrincipalMax=2");
        using var stop = new CancellationTokenSource();
        AsyncServerStreamingCall<SubscribeResponse> first = await OpenSubscribeAsync(server, "alice", stop.Token);
        AsyncServerStreamingCall<SubscribeResponse> second = await OpenSubscribeAsync(server, "bob", stop.Token);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => OpenSubscribeAsync(server, "carol", stop.Token));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("Server:SubscribeStreamsMax", refused.Status.Detail);

        first.Dispose(); // the client goes away: its place frees when the server sees the cancellation
        await WaitUntilAsync(() => Task.FromResult(server.Subscribers.Count == 1), TimeSpan.FromSeconds(10), "the closed stream to unregister");
        using AsyncServerStreamingCall<SubscribeResponse> third = await OpenSubscribeAsync(server, "carol", stop.Token);
        second.Dispose();
    }

    [Fact]
    public async Task A_principal_beyond_SubscribeStreamsPerPrincipalMax_is_refused_RESOURCE_EXHAUSTED_while_others_still_subscribe()
    {
        await using PrincipalServer server = await PrincipalServer.StartAsync("--Server:SubscribeStreamsMax=10", "--Server:SubscribeStreamsPerPrincipalMax=1");
        using var stop = new CancellationTokenSource();
        using AsyncServerStreamingCall<SubscribeResponse> alice = await OpenSubscribeAsync(server, "alice", stop.Token);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => OpenSubscribeAsync(server, "alice", stop.Token));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("Server:SubscribeStreamsPerPrincipalMax", refused.Status.Detail);
        Assert.Contains("'alice'", refused.Status.Detail);

        using AsyncServerStreamingCall<SubscribeResponse> bob = await OpenSubscribeAsync(server, "bob", stop.Token);
        Assert.Equal(2, server.Subscribers.Count);
    }

    [Fact]
    public async Task The_rate_limit_per_principal_refuses_RESOURCE_EXHAUSTED_naming_the_setting_and_spares_other_principals_and_health()
    {
        await using PrincipalServer server = await PrincipalServer.StartAsync(
            "--Server:RateLimit:Enabled=true", "--Server:RateLimit:TokensMax=3", "--Server:RateLimit:TokensPerSecond=1");
        var queries = new QueryService.QueryServiceClient(server.Channel);
        // 3 tokens, one more a second: within 40 quick calls the bucket runs dry whatever the machine's pace.
        RpcException? refused = null;
        for (int call = 0; call < 40 && refused is null; call++)
        {
            try
            {
                await queries.GetAccountAsync(new GetAccountRequest { AccountId = "nobody" }, As("alice"));
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.NotFound)
            {
                refused = e;
            }
            catch (RpcException)
            {
                // NOT_FOUND: the call got through the limiter.
            }
        }
        Assert.NotNull(refused);
        Assert.Equal(StatusCode.ResourceExhausted, refused!.StatusCode);
        Assert.Contains("Server:RateLimit:TokensPerSecond", refused.Status.Detail);
        Assert.Contains("'alice'", refused.Status.Detail);

        // Another principal has its own bucket; health is never limited.
        RpcException bob = await Assert.ThrowsAsync<RpcException>(() => queries.GetAccountAsync(new GetAccountRequest { AccountId = "nobody" }, As("bob")).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, bob.StatusCode);
        var health = new Health.HealthClient(server.Channel);
        for (int i = 0; i < 10; i++) Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), As("alice"))).Status);
    }

    [Fact]
    public async Task The_rate_limit_counts_each_Execute_batch_and_ends_the_stream_RESOURCE_EXHAUSTED_after_replying_to_earlier_batches()
    {
        await using PrincipalServer server = await PrincipalServer.StartAsync(
            "--Server:RateLimit:Enabled=true", "--Server:RateLimit:TokensMax=2", "--Server:RateLimit:TokensPerSecond=1");
        var pipeline = new PipelineService.PipelineServiceClient(server.Channel);
        using AsyncDuplexStreamingCall<ExecuteRequest, ExecuteResponse> call = pipeline.Execute(As("alice", 30));
        int answered = 0;
        RpcException? refused = null;
        for (ulong batch = 1; batch <= 40 && refused is null; batch++)
        {
            try
            {
                await call.RequestStream.WriteAsync(new ExecuteRequest
                {
                    BatchId = batch,
                    Commands = { new Command { OpenAccount = new OpenAccountRequest { RequestId = Id("open"), AccountId = Id("acct"), CustomerId = "c", Currency = "USD", CreditLimit = 1 } } },
                });
                if (!await call.ResponseStream.MoveNext(CancellationToken.None)) break;
                Assert.Equal(batch, call.ResponseStream.Current.BatchId);
                answered++;
            }
            catch (RpcException e)
            {
                refused = e;
            }
        }
        Assert.NotNull(refused);
        Assert.Equal(StatusCode.ResourceExhausted, refused!.StatusCode);
        Assert.Contains("Server:RateLimit:TokensMax", refused.Status.Detail);
        Assert.InRange(answered, 2, 39);
    }

    [Fact]
    public async Task Without_Server_RateLimit_Enabled_a_burst_of_calls_is_not_rate_limited()
    {
        await using PrincipalServer server = await PrincipalServer.StartAsync();
        var queries = new QueryService.QueryServiceClient(server.Channel);
        for (int call = 0; call < 300; call++)
        {
            RpcException e = await Assert.ThrowsAsync<RpcException>(() => queries.GetAccountAsync(new GetAccountRequest { AccountId = "nobody" }, As("alice")).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, e.StatusCode);
        }
    }

    [Fact]
    public async Task Kestrel_takes_ConnectionsMax_and_Http2StreamsPerConnectionMax_and_a_connection_beyond_ConnectionsMax_is_not_served()
    {
        await using PrincipalServer server = await PrincipalServer.StartAsync("--Server:ConnectionsMax=1", "--Server:Http2StreamsPerConnectionMax=64");
        KestrelServerOptions kestrel = server.App.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;
        Assert.Equal(1, kestrel.Limits.MaxConcurrentConnections);
        Assert.Equal(64, kestrel.Limits.Http2.MaxStreamsPerConnection);

        var health = new Health.HealthClient(server.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), Deadline())).Status);
        using GrpcChannel second = GrpcChannel.ForAddress(server.Address);
        RpcException refused = await Assert.ThrowsAsync<RpcException>(() => new Health.HealthClient(second).CheckAsync(new HealthCheckRequest(), Deadline()).ResponseAsync);
        // Kestrel closes a connection beyond the limit at once. The client sees UNAVAILABLE when the close comes before
        // its HTTP/2 preface is answered and INTERNAL when it comes mid-handshake (which one is a race); either way no
        // call is served on it.
        Assert.True(refused.StatusCode is StatusCode.Unavailable or StatusCode.Internal, $"a connection beyond ConnectionsMax was answered {refused.StatusCode}: {refused.Status.Detail}");
    }

    [Theory]
    [InlineData("Server:SubscribeStreamsMax", "0")]
    [InlineData("Server:SubscribeStreamsPerPrincipalMax", "100000")]
    [InlineData("Server:ConnectionsMax", "0")]
    [InlineData("Server:Http2StreamsPerConnectionMax", "0")]
    [InlineData("Server:RateLimit:TokensPerSecond", "0")]
    [InlineData("Server:RateLimit:TokensMax", "-1")]
    public void An_edge_limit_out_of_range_refuses_to_start_naming_the_setting(string key, string value)
    {
        var e = Assert.Throws<ArgumentException>(() => ServerApp.Build([.. TestServer.Arguments(TestServer.NewDataDirectory(), $"--{key}={value}")]));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public async Task Queries_proceed_while_a_state_digest_is_being_computed_and_the_feeder_waits_for_it()
    {
        await using TestServer server = await TestServer.StartAsync();
        string account = await OpenAccountAsync(server, 1_000_000);
        for (int i = 0; i < 20; i++)
            await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 10, Currency = "USD" }, Deadline());
        LedgerReadModel readModel = server.Services.GetRequiredService<LedgerReadModel>();
        using var digestStarted = new ManualResetEventSlim();
        using var releaseDigest = new ManualResetEventSlim();
        readModel.DigestProbe = () =>
        {
            digestStarted.Set();
            releaseDigest.Wait(TimeSpan.FromSeconds(60));
        };
        var replication = new ReplicationService.ReplicationServiceClient(server.Channel);
        Task<ReplicationStatus> digest = replication.GetStatusAsync(new GetReplicationStatusRequest { IncludeDigest = true }, Deadline(90)).ResponseAsync;
        try
        {
            Assert.True(digestStarted.Wait(TimeSpan.FromSeconds(30)), "the digest started");
            long waitsBefore = readModel.WriterGateWaits;
            // A new event: the feeder must now wait for the digest (a condition, observed on the read model).
            AuthorizeResponse during = await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 10, Currency = "USD" }, Deadline());
            await WaitUntilAsync(() => Task.FromResult(readModel.WriterGateWaits > waitsBefore), TimeSpan.FromSeconds(30), "the feeder to wait for the digest");

            // With the feeder waiting, other queries are answered (under a read lock a waiting writer would queue them).
            GetAccountResponse accountNow = await server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account }, Deadline(10));
            Assert.True(accountNow.Sequence < during.Sequence, "the read model has not applied the new event yet");
            ListAuthorizationsResponse open = await server.Queries.ListAuthorizationsAsync(new ListAuthorizationsRequest { AccountId = account }, Deadline(10));
            Assert.Equal(20, open.Authorizations.Count);
            ReplicationStatus plainStatus = await replication.GetStatusAsync(new GetReplicationStatusRequest(), Deadline(10));
            Assert.Equal("", plainStatus.StateDigest);
            Assert.False(digest.IsCompleted);
        }
        finally
        {
            readModel.DigestProbe = null;
            releaseDigest.Set();
        }
        ReplicationStatus withDigest = await digest;
        Assert.Equal(32, withDigest.StateDigest.Length);
        // Asked again at the same sequence, the digest is the same one.
        ReplicationStatus again = await replication.GetStatusAsync(new GetReplicationStatusRequest { IncludeDigest = true }, Deadline(30));
        if (again.AppliedSequence == withDigest.AppliedSequence) Assert.Equal(withDigest.StateDigest, again.StateDigest);
    }

    [Fact]
    public async Task An_OPEN_page_looks_at_no_more_than_AuthorizationsScannedPerPageMax_and_pages_on_with_a_token()
    {
        await using TestServer server = await TestServer.StartAsync();
        string account = await OpenAccountAsync(server, 1_000_000_000);
        int closed = LedgerReadModel.AuthorizationsScannedPerPageMax + 10;
        using (AsyncDuplexStreamingCall<ExecuteRequest, ExecuteResponse> call = server.Pipeline.Execute(Deadline(60)))
        {
            const int PairsPerBatch = 2_500;
            ulong batchId = 0;
            for (int done = 0; done < closed; done += PairsPerBatch)
            {
                var request = new ExecuteRequest { BatchId = ++batchId };
                for (int i = done; i < Math.Min(closed, done + PairsPerBatch); i++)
                {
                    string id = $"closed-{i}";
                    request.Commands.Add(new Command { Authorize = new AuthorizeRequest { RequestId = id, AccountId = account, Amount = 1, Currency = "USD" } });
                    request.Commands.Add(new Command { Void = new VoidRequest { RequestId = $"void-{i}", AuthorizationId = id } });
                }
                await call.RequestStream.WriteAsync(request);
                Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
                Assert.All(call.ResponseStream.Current.Replies, reply => Assert.Equal(Status.Ok, reply.Status));
            }
            await call.RequestStream.CompleteAsync();
        }
        AuthorizeResponse last = await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = "still-open", AccountId = account, Amount = 1, Currency = "USD" }, Deadline());

        var firstPage = await server.Queries.ListAuthorizationsAsync(new ListAuthorizationsRequest { AccountId = account, MinSequence = last.Sequence }, Deadline(30));
        Assert.Empty(firstPage.Authorizations); // 10,000 closed ones looked at, none open
        Assert.NotEqual("", firstPage.NextPageToken);
        var secondPage = await server.Queries.ListAuthorizationsAsync(new ListAuthorizationsRequest { AccountId = account, PageToken = firstPage.NextPageToken }, Deadline(30));
        Assert.Equal("still-open", Assert.Single(secondPage.Authorizations).AuthorizationId);
        Assert.Equal("", secondPage.NextPageToken);
    }

    private static CallOptions As(string principal, double deadlineSeconds = 10) =>
        new(headers: new Metadata { { PrincipalHeader, principal } }, deadline: DateTime.UtcNow.AddSeconds(deadlineSeconds));

    /// <summary>Opens a Subscribe stream and waits for its response headers (sent once the server registered it).</summary>
    private static async Task<AsyncServerStreamingCall<SubscribeResponse>> OpenSubscribeAsync(PrincipalServer server, string principal, CancellationToken ct)
    {
        var events = new EventService.EventServiceClient(server.Channel);
        AsyncServerStreamingCall<SubscribeResponse> call = events.Subscribe(new SubscribeRequest { FromSequence = 1 },
            new CallOptions(headers: new Metadata { { PrincipalHeader, principal } }, cancellationToken: ct));
        try
        {
            Metadata headers = await call.ResponseHeadersAsync.WaitAsync(TimeSpan.FromSeconds(30), ct);
            // An accepted stream sends its own headers at once; a refusal is a trailers-only response, read with MoveNext.
            if (headers.Get(Replication.ReplicationHeaders.LogEpoch) is null) await call.ResponseStream.MoveNext(ct);
            return call;
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    /// <summary>A real server whose callers are named by the <c>x-test-principal</c> header.</summary>
    private sealed class PrincipalServer : IAsyncDisposable
    {
        private PrincipalServer(WebApplication app, string address, string dataDirectory)
        {
            App = app;
            Address = address;
            DataDirectory = dataDirectory;
            Channel = GrpcChannel.ForAddress(address);
        }

        public WebApplication App { get; }
        public string Address { get; }
        public string DataDirectory { get; }
        public GrpcChannel Channel { get; }
        public Replication.SubscriberRegistry Subscribers => App.Services.GetRequiredService<Replication.SubscriberRegistry>();

        public static async Task<PrincipalServer> StartAsync(params string[] extra)
        {
            string dataDirectory = TestServer.NewDataDirectory();
            WebApplication app = ServerApp.Build([.. TestServer.Arguments(dataDirectory, extra)],
                services => services.AddSingleton<IStartupFilter, PrincipalFromHeader>());
            await app.StartAsync();
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new PrincipalServer(app, address, dataDirectory);
        }

        public async ValueTask DisposeAsync()
        {
            Channel.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
            try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } // best effort
        }
    }

    /// <summary>Test-only stand-in for access control: the header names the principal.</summary>
    private sealed class PrincipalFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((HttpContext http, RequestDelegate continuation) =>
            {
                if (http.Request.Headers.TryGetValue(PrincipalHeader, out var principal))
                    http.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, principal.ToString())], "test"));
                return continuation(http);
            });
            next(app);
        };
    }
}
