using Credit.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Engine.Bench.Edge;

/// <summary>
/// The floor for the engine's unary edge (issue #12 item 1): a Grpc.AspNetCore server with the same Kestrel settings
/// as Engine.Server (h2c, HTTP/2 only, the same flow-control windows and streams per connection, warnings-only logging)
/// that answers credit.v1.AuthorizationService/Authorize with a fixed approval and does nothing else — no validation,
/// no engine, no journal, no interceptors. What the engine's server costs per call beyond this is ours.
/// </summary>
internal static class StubServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.AddServerHeader = false;
            kestrel.Limits.Http2.InitialConnectionWindowSize = 4 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 2 * 1024 * 1024;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1024;
        });
        builder.Services.AddGrpc();
        WebApplication app = builder.Build();
        app.MapGrpcService<StubAuthorizationService>();
        app.MapGrpcService<StubQueryService>();
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>Approves every Authorize with a reply shaped like the engine's (status, sequence, authorization id).</summary>
    private sealed class StubAuthorizationService : AuthorizationService.AuthorizationServiceBase
    {
        private long _sequence;

        public override Task<AuthorizeResponse> Authorize(AuthorizeRequest request, ServerCallContext context)
        {
            Interlocked.Add(ref ApprovedTotal, request.Amount);
            return Task.FromResult(new AuthorizeResponse
            {
                Status = Credit.V1.Status.Ok,
                Approved = true,
                ResponseCode = "00",
                Available = 1,
                Held = 1,
                Sequence = Interlocked.Increment(ref _sequence),
                AuthorizationId = request.RequestId,
            });
        }
    }

    /// <summary>Sum of every approved amount, for the peers read-back of the grpc-stub row.</summary>
    private static long ApprovedTotal;

    /// <summary>GetAccount of any id answers the stub's total of approved amounts as held (the grpc-stub row's read-back).</summary>
    private sealed class StubQueryService : QueryService.QueryServiceBase
    {
        public override Task<GetAccountResponse> GetAccount(GetAccountRequest request, ServerCallContext context) =>
            Task.FromResult(new GetAccountResponse { Account = new Account { AccountId = request.AccountId, Held = Interlocked.Read(ref ApprovedTotal) } });
    }
}
