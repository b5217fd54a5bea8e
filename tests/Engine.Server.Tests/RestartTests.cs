using Credit.V1;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>Graceful restart keeps idempotency and state; health and reflection are served.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task A_retransmission_after_a_restart_is_replayed_with_the_original_reply()
    {
        string dataDirectory = TestServer.NewDataDirectory();
        AuthorizeRequest request;
        AuthorizeResponse original;
        string account;
        await using (TestServer first = await TestServer.StartAsync(dataDirectory))
        {
            account = await OpenAccountAsync(first, creditLimit: 1_000);
            request = new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 400, Currency = "USD" };
            original = await first.Authorization.AuthorizeAsync(request, Deadline());
            Assert.True(original.Approved);
        }

        await using TestServer second = await TestServer.StartAsync(dataDirectory);
        AuthorizeResponse replayed = await second.Authorization.AuthorizeAsync(request, Deadline());
        Assert.True(replayed.Replayed);
        Assert.Equal((original.Status, original.Sequence, original.Available, original.Held, original.AuthorizationId),
            (replayed.Status, replayed.Sequence, replayed.Available, replayed.Held, replayed.AuthorizationId));
        GetAccountResponse state = await second.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = original.Sequence }, Deadline());
        Assert.Equal(400L, state.Account.Held);
    }

    [Fact]
    public async Task Health_is_serving_after_recovery_and_reflection_lists_the_services()
    {
        await using TestServer server = await TestServer.StartAsync();
        var health = new Health.HealthClient(server.Channel);
        HealthCheckResponse overall = await health.CheckAsync(new HealthCheckRequest(), Deadline());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, overall.Status);
        HealthCheckResponse authorization = await health.CheckAsync(new HealthCheckRequest { Service = "credit.v1.AuthorizationService" }, Deadline());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, authorization.Status);

        var reflection = new ServerReflection.ServerReflectionClient(server.Channel);
        using var call = reflection.ServerReflectionInfo(Deadline());
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        foreach (string expected in new[] { "credit.v1.AuthorizationService", "credit.v1.AccountService", "credit.v1.PipelineService", "credit.v1.EventService", "credit.v1.QueryService", "grpc.health.v1.Health" })
            Assert.Contains(expected, names);
    }

    [Fact]
    public async Task Engine_settings_bind_from_the_command_line_including_ledger_limits()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Engine:Ledger:DefaultHoldExpirySeconds=3600");
        string account = await OpenAccountAsync(server, creditLimit: 1_000);
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        AuthorizeResponse authorized = await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("a"), AccountId = account, Amount = 1, Currency = "USD" }, Deadline());
        ListAuthorizationsResponse list = await server.Queries.ListAuthorizationsAsync(new ListAuthorizationsRequest { AccountId = account, MinSequence = authorized.Sequence }, Deadline());
        long expiresInMs = list.Authorizations.Single().ExpiresAtUnixMs - before;
        Assert.InRange(expiresInMs, 3_500_000, 3_700_000);
    }
}
