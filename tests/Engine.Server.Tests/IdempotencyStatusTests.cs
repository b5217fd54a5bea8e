using Credit.V1;
using static Engine.Server.Tests.Wire;
using Status = Credit.V1.Status;

namespace Engine.Server.Tests;

/// <summary>ReplicationService.GetStatus reports the engine's idempotency window (README "Idempotency").</summary>
public sealed class IdempotencyStatusTests
{
    [Fact]
    public async Task GetStatus_reports_the_effective_idempotency_window_and_the_spilled_ids()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Engine:Ledger:IdempotencyMaxEntries=20");
        List<string> accounts = await ReplicaTests.OpenAccountsAsync(server.Channel, 1);
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (int i = 0; i < 100; i++)
        {
            RepayResponse repaid = await server.Authorization.RepayAsync(new RepayRequest { RequestId = Id("repay"), AccountId = accounts[0], Amount = 1 }, Deadline());
            Assert.Equal(Status.Ok, repaid.Status);
        }
        // The decide thread publishes the window about once a second (ticks keep it going while idle).
        IdempotencyWindow? window = null;
        await WaitUntilAsync(async () =>
        {
            window = (await ReplicaTests.StatusOf(server.Channel)).Idempotency;
            return window is { Entries: >= 101 };
        }, TimeSpan.FromSeconds(30), "GetStatus to show the 101 remembered request ids");
        Assert.NotNull(window);
        Assert.True(window.SpillEnabled);
        Assert.False(window.BelowConfigured);
        Assert.Equal(0, window.EvictedInsideWindow);
        Assert.Equal(window.Entries - 20, window.SpilledEntries);
        Assert.InRange(window.OldestTimestampUnixMs, before - 60_000, before);
        Assert.True(window.EffectiveWindowMs >= 0);
        Assert.Equal(24L * 3600 * 1000, window.ConfiguredMinAgeMs);
    }
}
