using Engine.LoadTest;
using Engine.Server.Security;
using Engine.Server.Tests;

namespace Engine.LoadTest.Tests;

/// <summary>The load generator against an engine with API keys (README "Access control"): the key comes from a file.</summary>
public sealed class KeyedServerTests
{
    [Fact]
    public async Task With_api_key_file_a_run_against_a_keyed_engine_passes_and_without_it_the_run_cannot_happen()
    {
        string key = ApiKeyHash.NewKey();
        await using TestServer server = await TestServer.StartAsync(null,
            "--Access:Principals:loadgen:Roles=authorizer,account-admin", $"--Access:Principals:loadgen:KeyHashes={ApiKeyHash.Of(key)}");
        string keyFile = Path.Combine(server.DataDirectory, "loadgen.key");
        await File.WriteAllTextAsync(keyFile, key + "\n");
        string[] run = ["--target", server.Address, "--accounts", "20", "--rate", "50", "--seconds", "1", "--warmup-seconds", "0", "--quiet", "--max-error-rate", "0"];

        int keyed = await LoadTestApp.RunAsync([.. run, "--api-key-file", keyFile], TextWriter.Null, new StringWriter());
        var error = new StringWriter();
        int unkeyed = await LoadTestApp.RunAsync(run, TextWriter.Null, error);

        Assert.Equal(LoadTestApp.ExitPassed, keyed);
        Assert.NotEqual(LoadTestApp.ExitPassed, unkeyed);
        Assert.Contains("Unauthenticated", error.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_empty_or_missing_api_key_file_exits_2_naming_the_flag()
    {
        string empty = Path.GetTempFileName();
        try
        {
            foreach (string path in new[] { empty, empty + ".missing" })
            {
                var error = new StringWriter();
                int exit = await LoadTestApp.RunAsync(["--rate", "10", "--api-key-file", path], TextWriter.Null, error);
                Assert.Equal(LoadTestApp.ExitUsage, exit);
                Assert.Contains("--api-key-file", error.ToString());
            }
        }
        finally
        {
            File.Delete(empty);
        }
    }
}
