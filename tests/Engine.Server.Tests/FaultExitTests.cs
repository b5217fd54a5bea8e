using Credit.V1;
using Engine.Core;
using Engine.Core.Tests;
using Engine.Server.Hosting;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>A fault under the engine stops the server process with a non-zero exit code; nothing undurable is acknowledged.</summary>
public sealed class FaultExitTests
{
    [Theory]
    [InlineData("EIO")]
    [InlineData("ENOSPC")]
    [InlineData("decide")]
    public async Task An_engine_fault_answers_unavailable_and_stops_the_server_with_exit_code_1(string fault)
    {
        string dataDirectory = TestServer.NewDataDirectory();
        var faults = new StorageFaults();
        // As Program runs it: RunAsync returns once the host stopped, and EngineHost.ExitCode is what the process returns.
        WebApplication app = ServerApp.Build([.. TestServer.Arguments(dataDirectory)],
            services => services.PostConfigure<EngineOptions>(o => o.StorageFaults = faults));
        EngineHost host = app.Services.GetRequiredService<EngineHost>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(started.SetResult);
        Task run = app.RunAsync();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        string account = Id("acct");
        var repay = new RepayRequest { RequestId = Id("repay"), AccountId = account, Amount = 5 };
        using (var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(address))
        {
            var accounts = new AccountService.AccountServiceClient(channel);
            var authorization = new AuthorizationService.AuthorizationServiceClient(channel);
            OpenAccountResponse opened = await accounts.OpenAccountAsync(new OpenAccountRequest { RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 1_000 }, Deadline(30));
            Assert.Equal(Credit.V1.Status.Ok, opened.Status);
            switch (fault)
            {
                case "EIO": faults.FailCommits(StorageFaults.EIO); break;
                case "ENOSPC": faults.FailCommits(StorageFaults.ENOSPC); break;
                default: faults.FailAppends(); break;
            }

            RpcException refused = await Assert.ThrowsAsync<RpcException>(async () => await authorization.RepayAsync(repay, Deadline(30)));
            Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        }

        await run.WaitAsync(TimeSpan.FromSeconds(60)); // the server stopped itself
        Assert.Equal(EngineHost.ExitCodeEngineFault, host.ExitCode);

        // What was refused was never acknowledged nor made durable: after a restart the same request is new.
        await using TestServer restarted = await TestServer.StartAsync(dataDirectory);
        RepayResponse retried = await restarted.Authorization.RepayAsync(repay, Deadline(30));
        Assert.Equal(Credit.V1.Status.Ok, retried.Status);
        Assert.False(retried.Replayed);
        Assert.Equal(2, retried.Sequence);
    }
}
