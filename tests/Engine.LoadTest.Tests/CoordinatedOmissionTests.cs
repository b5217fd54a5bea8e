using Engine.LoadTest;
using Microsoft.Extensions.Time.Testing;

namespace Engine.LoadTest.Tests;

/// <summary>
/// Open-loop latency is measured from each request's intended send time (start + i / rate), so a stall — of the
/// server or of the generator — shows in the latency of every request that was due during it, not only in the one
/// that happened to be waiting. The clock is a <see cref="FakeTimeProvider"/> the test advances one millisecond at a
/// time; the runner's waits and the fake target's replies complete inline, so every figure below is exact.
/// </summary>
public sealed class CoordinatedOmissionTests
{
    // 1,000 requests/s for 2 s: request i is due at i ms.
    private static readonly LoadTestOptions Options = new()
    {
        RatePerSecond = 1_000,
        Seconds = 2,
        WarmupSeconds = 0,
        Quiet = true,
        Accounts = 10,
    };

    [Fact]
    public async Task Requests_due_while_the_server_stalls_record_latency_that_includes_the_stall()
    {
        var time = new FakeTimeProvider();
        // The server answers nothing that arrives from 500 ms to 1,000 ms until 1,000 ms.
        var target = new FakeTarget(time) { Holds = ms => ms is >= 500 and < 1_000 };
        LoadTestResult result = await DriveAsync(time, target, Options, atMs: ms => { if (ms == 1_000) target.ReleaseHeld(); });

        Assert.Equal(2_000, result.Requests);
        Assert.Equal(0, result.Errors);
        Assert.Equal(2_000, target.Sends); // open loop: the stall did not slow the sending down
        // Requests 500..999 waited 500..1 ms: the top quarter of all latencies. A generator that measured from the
        // moment it sent would record them the same, but one that waited for replies would have sent only one of them.
        AssertNear(500, result.LatencyMaxMs);
        AssertNear(301, result.LatencyP90Ms); // the 200th-highest latency of 2,000
        AssertNear(481, result.LatencyP99Ms); // the 20th-highest
        Assert.True(result.LatencyP50Ms < 0.01, $"p50 {result.LatencyP50Ms} ms: half the requests never met the stall");
        Assert.Equal(501, result.PeakInFlight); // the 500 held, plus request 1,000 counted as it went out just before the release
    }

    [Fact]
    public async Task Requests_due_while_the_generator_itself_stalls_record_latency_from_their_intended_send_time()
    {
        var time = new FakeTimeProvider();
        var target = new FakeTarget(time);
        // The generator does not run from 499 ms to 999 ms (a GC pause, a descheduled thread): one 500 ms clock step.
        LoadTestResult result = await DriveAsync(time, target, Options, stepMs: ms => ms == 499 ? 500 : 1);

        Assert.Equal(2_000, result.Requests);
        Assert.Equal(2_000, target.Sends);
        // Requests 500..999 went out together at 999 ms, answered at once, 499..0 ms after they were due.
        AssertNear(499, result.LatencyMaxMs);
        AssertNear(300, result.LatencyP90Ms);
        AssertNear(480, result.LatencyP99Ms);
    }

    [Fact]
    public async Task An_open_loop_send_beyond_max_in_flight_is_counted_as_a_client_error_and_not_queued()
    {
        var time = new FakeTimeProvider();
        // Nothing is answered during the first second; only 100 commands may be outstanding.
        var target = new FakeTarget(time) { Holds = ms => ms < 1_000 };
        LoadTestResult result = await DriveAsync(time, target, Options with { MaxInFlight = 100 }, atMs: ms => { if (ms == 999) target.ReleaseHeld(); });

        Assert.Equal(2_000, result.Requests);
        Assert.Equal(1_100, target.Sends);
        Assert.Equal(1_100, result.Sent);
        Assert.Equal(100, result.PeakInFlight);
        Assert.Equal(900, result.Errors);
        Assert.Equal(900, result.ErrorsByStatus[StatusLabels.InFlightLimit]);
        Assert.Equal(0.45, result.ErrorRate, 6);
    }

    /// <summary>
    /// Runs the load on the fake clock, advancing it (1 ms a step unless told) until the run ends; bounded. It runs on a
    /// thread-pool thread: there, with no synchronization context, the runner's continuations run inline inside
    /// <see cref="FakeTimeProvider.Advance"/> (xUnit's test thread has a context, which would queue them instead).
    /// </summary>
    private static Task<LoadTestResult> DriveAsync(FakeTimeProvider time, FakeTarget target, LoadTestOptions options, Action<long>? atMs = null, Func<long, long>? stepMs = null) =>
        Task.Run(() => DriveOnThreadPoolAsync(time, target, options, atMs, stepMs));

    private static async Task<LoadTestResult> DriveOnThreadPoolAsync(FakeTimeProvider time, FakeTarget target, LoadTestOptions options, Action<long>? atMs, Func<long, long>? stepMs)
    {
        var runner = new LoadRunner(options, target, new Workload(options, "co-test"), time, TextWriter.Null);
        Task<LoadTestResult> run = runner.RunAsync(CancellationToken.None);
        long elapsedMs = 0;
        for (int step = 0; step < 10_000 && !run.IsCompleted; step++)
        {
            long advanceMs = stepMs?.Invoke(elapsedMs) ?? 1;
            time.Advance(TimeSpan.FromMilliseconds(advanceMs));
            elapsedMs += advanceMs;
            atMs?.Invoke(elapsedMs);
        }
        Assert.True(run.IsCompleted, $"the run did not end after {elapsedMs} ms of fake time");
        return await run;
    }

    private static void AssertNear(double expectedMs, double actualMs) =>
        Assert.True(Math.Abs(actualMs - expectedMs) <= expectedMs * 0.005 + 0.01, $"expected ≈ {expectedMs} ms, measured {actualMs} ms");
}
