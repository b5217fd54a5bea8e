using Engine.LoadTest;
using Engine.Server.Tests;

namespace Engine.LoadTest.Tests;

/// <summary>
/// One real engine server for a test class: in-process <c>ServerApp.Build</c> on 127.0.0.1 with an OS-chosen port and
/// a temp data directory (deleted at the end). A one-second run primes both sides (JIT, connections, the accounts), so
/// the tests' short warm-ups are not spent on a cold start.
/// </summary>
public sealed class EngineServerFixture : IAsyncLifetime
{
    public const int Accounts = 50;

    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        string[] prime = ["--target", Server.Address, "--accounts", Accounts.ToString(), "--rate", "100", "--seconds", "1", "--warmup-seconds", "0", "--quiet"];
        foreach (string[] api in new[] { Array.Empty<string>(), ["--execute-batch", "10"] })
        {
            var error = new StringWriter();
            int exit = await LoadTestApp.RunAsync([.. prime, .. api], TextWriter.Null, error);
            if (exit != LoadTestApp.ExitPassed) throw new InvalidOperationException($"priming run failed ({exit}): {error}");
        }
    }

    public async Task DisposeAsync() => await Server.StopAsync();
}
