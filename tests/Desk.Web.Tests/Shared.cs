using Desk.Domain;

namespace Desk.Web.Tests;

/// <summary>One engine for the test assembly: tests keep apart by using fresh customer codes (hence fresh account ids).</summary>
public static class SharedEngine
{
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
