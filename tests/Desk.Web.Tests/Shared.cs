using Desk.Domain;

namespace Desk.Web.Tests;

/// <summary>
/// One engine for the test assembly, as desks in production share one: tests keep apart by using fresh customer codes
/// (hence fresh account ids), and each test desk prefixes its request ids with its own desk id. It lives in this
/// process and ends with it; its data directory goes with the run directory (<see cref="Temp"/>).
/// </summary>
public static class SharedEngine
{
    // No graceful stop at exit: the test runner kills the process soon after the last test, and a graceful stop
    // (snapshot, journal close) could hold up the deletion of the run directory past that.
    private static readonly Lazy<Task<EngineHost>> Engine = new(EngineHost.StartAsync);

    public static async Task<string> AddressAsync() => (await Engine.Value).Address;
}

public static class TestData
{
    private static int _counter = Random.Shared.Next(0, 1_000_000);

    /// <summary>A valid, unique unified social credit code.</summary>
    public static string NewUscc()
    {
        int n = Interlocked.Increment(ref _counter);
        string first17 = $"913101{Random.Shared.Next(0, 99):00}{n % 1_000_000_000:000000000}";
        return first17 + Uscc.CheckCharacter(first17);
    }
}
