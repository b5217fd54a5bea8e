using System.Text.Json;
using Engine.Bench.Peers;

namespace Engine.Bench.Tests;

/// <summary>
/// The <c>peers</c> verb end to end at toy size: every system really starts (PostgreSQL and Redis are installed with
/// apt-get on a fresh machine), serves the same durable authorizations, and its state read back matches what the
/// harness saw approved. The credit limit is small so that every system both approves and declines.
/// </summary>
public sealed class PeersSmokeTests
{
    /// <summary>
    /// Includes a first-time apt-get install of PostgreSQL and Redis on a fresh CI machine. A run takes about 40 s here;
    /// 2.5 minutes once ran out on a CI machine shared with the desk's browser tests (cancelled while the engine's server
    /// was starting, after the in-process row), so the bound is generous and a failure prints the run's timed stages.
    /// </summary>
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Past the run's own timeout, every stage of the run is bounded too (a client waits for a reply at most the window
    /// plus 45 s, a system takes at most 150 s to stop); this is the last guard, so that a hang fails the test with the
    /// run's output instead of holding CI until its hang timeout.
    /// </summary>
    private static readonly TimeSpan HangTimeout = TimeSpan.FromMinutes(9);

    [Fact]
    public async Task Every_system_answers_the_same_authorizations_durably_and_its_read_back_matches_the_approved_amounts()
    {
        string jsonPath = Path.Combine(Path.GetTempPath(), $"engine-bench-tests-peers-{Guid.NewGuid():N}.json");
        var options = new PeersOptions
        {
            Systems = PeersOptions.DefaultSystems,
            // 3 s measured after 1 s of warm-up: CI runs the test assemblies side by side (the desk's browser and
            // PostgreSQL tests among them), and a 1 s window once saw a stall as long as the window itself.
            Seconds = 3,
            WarmupSeconds = 1,
            Clients = 4,
            Accounts = 8,
            // 8 × 200.00 of credit is used up by a few dozen authorizations, within the warm-up even on a loaded
            // machine, so the measured window must see declines whatever the throughput (it was 2,000.00, which a
            // slow run on a busy 2-core machine did not use up in 1.5 s).
            CreditLimitMinor = 20_000,
            PostgresPoolSize = 4,
            MaxRequests = 200_000,
            JsonPath = jsonPath,
            Command = "peers smoke test",
        };
        using var timeout = new CancellationTokenSource(RunTimeout);
        // The run's progress lines and errors go to the console; kept here so that a failure shows them.
        var output = new StringWriter();
        (TextWriter stdout, TextWriter stderr) = (Console.Out, Console.Error);
        TextWriter captured = TextWriter.Synchronized(output);
        Console.SetOut(captured);
        Console.SetError(captured);
        try
        {
            Task<PeersReport> run = PeersBenchmark.RunAsync(options, timeout.Token);
            PeersReport report;
            try
            {
                report = await run.WaitAsync(HangTimeout);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"the peers run did not finish within {HangTimeout.TotalMinutes} minutes; its output:\n{Tail(captured, output)}");
                throw;
            }
            catch (Exception e)
            {
                // Cancelled by RunTimeout, or failed outside a system's own error handling: the run's progress lines
                // (each stage says when it ended) show which stage took the time.
                Assert.Fail($"the peers run threw {e.GetType().Name}: {e.Message}\nits output:\n{Tail(captured, output)}");
                throw;
            }
            Assert.True(report.Passed, $"the peers run failed; its output:\n{Tail(captured, output)}");

            Assert.Equal(["engine-inprocess", "engine-grpc", "engine-grpc-execute", "engine-sdk", "postgresql", "redis"], report.Rows.Select(row => row.Name));
            foreach (PeerRow row in report.Rows)
            {
                Assert.True(row.Errors == 0, $"{row.Name}: {row.Errors} errors, first: {row.FirstError}");
                Assert.True(row.Durable, $"{row.Name} is not durable: {string.Join(", ", row.Settings)}");
                Assert.True(row.PerSecond > 0, $"{row.Name} completed nothing in the measured window");
                Assert.True(row.ApprovedAmountTotalMinor > 0, $"{row.Name} approved nothing");
                Assert.True(row.Declines > 0, $"{row.Name} declined nothing although the credit ran out");
                Assert.Equal(row.ApprovedAmountTotalMinor, row.HeldTotalMinor);
                Assert.True(row.CrossCheckPassed);
            }
            Assert.Equal("on", report.Rows.Single(row => row.Name == "postgresql").Settings["synchronous_commit"]);
            Assert.Equal("on", report.Rows.Single(row => row.Name == "postgresql").Settings["fsync"]);
            Assert.Equal("always", report.Rows.Single(row => row.Name == "redis").Settings["appendfsync"]);

            using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(jsonPath));
            JsonElement[] systems = json.RootElement.GetProperty("systems").EnumerateArray().ToArray();
            Assert.Equal(6, systems.Length);
            foreach (JsonElement system in systems)
            {
                Assert.True(system.GetProperty("durable").GetBoolean());
                Assert.True(system.GetProperty("per_second").GetDouble() > 0);
                Assert.True(system.GetProperty("latency_p50_ms").GetDouble() > 0);
                Assert.True(system.GetProperty("latency_p99_ms").GetDouble() >= system.GetProperty("latency_p50_ms").GetDouble());
                Assert.Equal(0, system.GetProperty("errors").GetInt64());
                Assert.True(system.GetProperty("cross_check_passed").GetBoolean());
            }
            // Four engine rows × two peers.
            Assert.Equal(8, json.RootElement.GetProperty("ratios").GetArrayLength());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            File.Delete(jsonPath);
        }
    }

    /// <summary>The last part of the output; under the synchronized writer's own lock, which its writes take.</summary>
    private static string Tail(TextWriter captured, StringWriter output)
    {
        string text;
        lock (captured) text = output.ToString();
        return text.Length <= 20_000 ? text : text[^20_000..];
    }
}
