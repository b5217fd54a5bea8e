using Credit.V1;
using Engine.Server.Hosting;
using Engine.ReadModel;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static Engine.Server.Tests.Wire;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Engine.Server.Tests;

/// <summary>Health of the command path and of the read side are separate (issue 9; README "Health").</summary>
public sealed class HealthSeparationTests
{
    [Fact]
    public async Task A_read_model_fault_leaves_the_authorization_path_serving_and_makes_queries_unavailable()
    {
        await using TestServer server = await TestServer.StartAsync();
        var health = new Health.HealthClient(server.Channel);
        string account = await OpenAccountAsync(server, creditLimit: 1_000);
        foreach (string name in EngineHost.HealthServiceNames) Assert.Equal(ServingStatus.Serving, await StatusOfAsync(health, name));

        server.Services.GetRequiredService<LedgerReadModel>().SetFault(new InvalidOperationException("injected read-model fault"));

        // The watchdog notices within a second; wait on the condition, bounded.
        await WaitUntilAsync(async () => await StatusOfAsync(health, "credit.v1.QueryService") == ServingStatus.NotServing, TimeSpan.FromSeconds(10), "QueryService NOT_SERVING");
        foreach (string name in EngineHost.ReadServiceNames) Assert.Equal(ServingStatus.NotServing, await StatusOfAsync(health, name));
        Assert.Equal(ServingStatus.Serving, await StatusOfAsync(health, ""));
        foreach (string name in EngineHost.CommandServiceNames) Assert.Equal(ServingStatus.Serving, await StatusOfAsync(health, name));

        AuthorizeResponse authorized = await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 100, Currency = "USD" }, Deadline());
        Assert.True(authorized.Approved);
        Assert.Equal(900, authorized.Available);

        RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account }, Deadline()));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        refused = await Assert.ThrowsAsync<RpcException>(async () => await server.Queries.ListAuthorizationsAsync(new ListAuthorizationsRequest { AccountId = account }, Deadline()));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
    }

    [Fact]
    public async Task Every_credit_service_the_server_maps_has_a_health_entry_and_a_leader_serves_it()
    {
        await using TestServer server = await TestServer.StartAsync();
        var health = new Health.HealthClient(server.Channel);
        string[] mapped = server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(endpoint => endpoint.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.ServiceName)
            .OfType<string>().Where(name => name.StartsWith("credit.v1.", StringComparison.Ordinal)).Distinct().Order().ToArray();
        Assert.Contains("credit.v1.LifecycleService", mapped);
        foreach (string name in mapped)
        {
            Assert.Contains(name, EngineHost.HealthServiceNames);
            Assert.Equal(ServingStatus.Serving, await StatusOfAsync(health, name));
        }
    }

    private static async Task<ServingStatus> StatusOfAsync(Health.HealthClient health, string service) =>
        (await health.CheckAsync(new HealthCheckRequest { Service = service }, Deadline())).Status;
}
