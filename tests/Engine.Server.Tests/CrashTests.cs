using System.Collections.Concurrent;
using Credit.V1;
using Grpc.Core;
using static Engine.Server.Tests.Wire;
using Status = Credit.V1.Status;

namespace Engine.Server.Tests;

/// <summary>docs/SPEC.md "Durability": kill -9 at any moment loses no replied command. Graceful SIGTERM exits 0.</summary>
public sealed class CrashTests
{
    [Fact]
    public async Task Kill_minus_9_under_load_loses_no_replied_command_and_sigterm_exits_0()
    {
        string dataDirectory = TestServer.NewDataDirectory();
        var replied = new ConcurrentBag<(AuthorizeRequest Request, AuthorizeResponse Reply)>();
        string account;
        using (ChildServer first = await ChildServer.StartAsync(dataDirectory))
        {
            account = Id("acct");
            await first.Accounts.OpenAccountAsync(new OpenAccountRequest { RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 1_000_000_000 }, Deadline(30));

            using var stop = new CancellationTokenSource();
            // Bounded load: 8 concurrent callers, at most 2,000 commands each, until the kill.
            Task[] workers = [.. Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                for (int i = 0; i < 2_000 && !stop.IsCancellationRequested; i++)
                {
                    var request = new AuthorizeRequest { RequestId = Id("load"), AccountId = account, Amount = 1 + i % 7, Currency = "USD" };
                    try
                    {
                        AuthorizeResponse reply = await first.Authorization.AuthorizeAsync(request, Deadline(30));
                        replied.Add((request, reply));
                    }
                    catch (RpcException)
                    {
                        return; // the server died under this call: its outcome is unknown, which is allowed
                    }
                }
            }))];
            await WaitUntilAsync(() => Task.FromResult(replied.Count >= 400), TimeSpan.FromSeconds(60), "400 replied commands");
            first.KillHard();
            await stop.CancelAsync();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
        }
        Assert.True(replied.Count >= 400);

        using ChildServer second = await ChildServer.StartAsync(dataDirectory, "--Logging:LogLevel:Engine.Server.Hosting.EngineHost=Information");
        long maxSequence = 0;
        foreach ((AuthorizeRequest request, AuthorizeResponse original) in replied)
        {
            AuthorizeResponse again = await second.Authorization.AuthorizeAsync(request, Deadline(30));
            Assert.True(again.Replayed, $"request {request.RequestId} (sequence {original.Sequence}) was replied before the crash but is unknown after it");
            Assert.Equal((original.Status, original.Sequence, original.Available, original.Held), (again.Status, again.Sequence, again.Available, again.Held));
            maxSequence = Math.Max(maxSequence, original.Sequence);
        }
        GetAccountResponse state = await second.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = maxSequence }, Deadline(30));
        long heldReplied = replied.Where(r => r.Reply.Status == Status.Ok).Sum(r => r.Request.Amount);
        Assert.True(state.Account.Held >= heldReplied, "every replied hold is still held (unreplied ones may have survived too)");

        Assert.Equal(0, await second.TerminateAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("engine stopped cleanly", second.Output);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(dataDirectory, "snapshots"), "*.snap"));
    }
}
