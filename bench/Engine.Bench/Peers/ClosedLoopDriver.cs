using System.Diagnostics;
using HdrHistogram;

namespace Engine.Bench.Peers;

/// <summary>What one system did under the closed-loop load.</summary>
internal sealed record DriverResult
{
    /// <summary>Requests completed inside the measured window.</summary>
    public long MeasuredRequests { get; init; }
    public double MeasuredSeconds { get; init; }
    public double PerSecond => MeasuredSeconds > 0 ? MeasuredRequests / MeasuredSeconds : 0;
    /// <summary>Latency (µs) of requests sent inside the measured window.</summary>
    public required HistogramBase LatencyUs { get; init; }
    /// <summary>Outcomes of requests sent inside the measured window.</summary>
    public long MeasuredApprovals { get; init; }
    public long MeasuredDeclines { get; init; }
    public long MeasuredErrors { get; init; }
    /// <summary>All requests, warm-up included: what the system's state must reflect.</summary>
    public long TotalRequests { get; init; }
    public long TotalApprovals { get; init; }
    public long TotalErrors { get; init; }
    public long TotalApprovedAmountMinor { get; init; }
    public string? FirstError { get; init; }
    public bool StoppedByRequestCap { get; init; }
    /// <summary>CPU seconds used during the measured window by this process (load generator and client; the engine too when in-process).</summary>
    public double ClientCpuSeconds { get; init; }
    /// <summary>CPU seconds used during the measured window by the server's processes (<see cref="IAuthorizeSystem.ServerProcessIds"/>).</summary>
    public double ServerCpuSeconds { get; init; }
}

/// <summary>
/// Drives one system with <see cref="PeersOptions.Clients"/> closed-loop clients: each takes the next request index,
/// sends that authorization, waits for the answer, and goes again. Every loop is bounded by time (warm-up + measured
/// seconds), by count (<see cref="PeersOptions.MaxRequests"/>) and by errors (<see cref="PeersOptions.ErrorsMax"/>);
/// a request still running <see cref="PeersOptions.DrainTimeout"/> after the window closed is cancelled.
/// <para>Throughput counts requests <em>completed</em> inside the measured window; latency is recorded for requests
/// <em>sent</em> inside it, from just before the call to just after its answer (waiting for a pooled connection included).</para>
/// </summary>
internal static class ClosedLoopDriver
{
    private const long LatencyUsMax = 600_000_000;
    private static readonly TimeSpan UnansweredGrace = TimeSpan.FromSeconds(15);

    public static async Task<DriverResult> RunAsync(IAuthorizeSystem system, AuthorizeWorkload workload, PeersOptions options, CancellationToken ct)
    {
        long frequency = Stopwatch.Frequency;
        long startTicks = Stopwatch.GetTimestamp();
        long warmupEndTicks = startTicks + (long)(options.WarmupSeconds * frequency);
        long endTicks = warmupEndTicks + options.Seconds * frequency;
        var shared = new SharedState(options, new LongConcurrentHistogram(1, LatencyUsMax, 3));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(TimeSpan.FromTicks((endTicks - startTicks) * TimeSpan.TicksPerSecond / frequency) + options.DrainTimeout);

        var clients = new Client[options.Clients];
        var tasks = new Task[options.Clients];
        for (int i = 0; i < clients.Length; i++)
        {
            clients[i] = new Client(system, workload, shared, warmupEndTicks, endTicks);
            Client client = clients[i];
            tasks[i] = Task.Run(() => client.RunAsync(stop), CancellationToken.None);
        }
        Task progress = ReportProgressAsync(system.Name, clients, tasks, startTicks, warmupEndTicks);
        Task<(double Client, double Server)> cpu = MeasureCpuAsync(system, warmupEndTicks, endTicks, stop.Token);
        // A system that ignores cancellation (an in-process call has no token) must not hold the run forever: once the
        // window and the drain time are over, a client still waiting for its reply is a failure of that system.
        TimeSpan clientsBound = TimeSpan.FromTicks((endTicks - startTicks) * TimeSpan.TicksPerSecond / frequency) + options.DrainTimeout + UnansweredGrace;
        try
        {
            await Task.WhenAll(tasks).WaitAsync(clientsBound, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            int waiting = tasks.Count(task => !task.IsCompleted);
            throw new TimeoutException($"{system.Name}: {waiting} of {tasks.Length} clients still waiting for a reply {clientsBound.TotalSeconds:F0} s after the run started " +
                                       $"(window, then {options.DrainTimeout.TotalSeconds:F0} s of drain and {UnansweredGrace.TotalSeconds:F0} s of grace); completed {clients.Sum(c => Volatile.Read(ref c.Requests))}");
        }
        await progress.ConfigureAwait(false);
        (double clientCpuSeconds, double serverCpuSeconds) = await cpu.ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();

        long lastCompletionTicks = clients.Max(c => c.LastCompletionTicks);
        long windowEndTicks = Math.Min(endTicks, Math.Max(lastCompletionTicks, warmupEndTicks));
        return new DriverResult
        {
            MeasuredRequests = clients.Sum(c => c.CompletedInWindow),
            MeasuredSeconds = (windowEndTicks - warmupEndTicks) / (double)frequency,
            LatencyUs = shared.LatencyUs,
            MeasuredApprovals = clients.Sum(c => c.MeasuredApprovals),
            MeasuredDeclines = clients.Sum(c => c.MeasuredDeclines),
            MeasuredErrors = clients.Sum(c => c.MeasuredErrors),
            TotalRequests = clients.Sum(c => c.Requests),
            TotalApprovals = clients.Sum(c => c.Approvals),
            TotalErrors = clients.Sum(c => c.Errors),
            TotalApprovedAmountMinor = clients.Sum(c => c.ApprovedAmountMinor),
            FirstError = shared.FirstError,
            StoppedByRequestCap = Volatile.Read(ref shared.NextRequestIndex) >= options.MaxRequests,
            ClientCpuSeconds = clientCpuSeconds,
            ServerCpuSeconds = serverCpuSeconds,
        };
    }

    /// <summary>CPU used by this process and by the server's processes between the end of warm-up and the end of the window.</summary>
    private static async Task<(double Client, double Server)> MeasureCpuAsync(IAuthorizeSystem system, long warmupEndTicks, long endTicks, CancellationToken ct)
    {
        try
        {
            await DelayUntilAsync(warmupEndTicks, ct).ConfigureAwait(false);
            TimeSpan clientBefore = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
            Dictionary<int, double> serverBefore = ProcessCpu.Snapshot(system.ServerProcessIds);
            await DelayUntilAsync(endTicks, ct).ConfigureAwait(false);
            TimeSpan clientAfter = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
            Dictionary<int, double> serverAfter = ProcessCpu.Snapshot(system.ServerProcessIds);
            return ((clientAfter - clientBefore).TotalSeconds, ProcessCpu.Used(serverBefore, serverAfter));
        }
        catch (OperationCanceledException)
        {
            return (0, 0); // the run was cut short; there is no full window to measure
        }
    }

    private static async Task DelayUntilAsync(long ticks, CancellationToken ct)
    {
        long remaining = ticks - Stopwatch.GetTimestamp();
        if (remaining > 0) await Task.Delay(TimeSpan.FromSeconds(remaining / (double)Stopwatch.Frequency), ct).ConfigureAwait(false);
    }

    private static async Task ReportProgressAsync(string name, Client[] clients, Task[] tasks, long startTicks, long warmupEndTicks)
    {
        Task all = Task.WhenAll(tasks);
        long previous = 0;
        while (!all.IsCompleted)
        {
            await Task.WhenAny(all, Task.Delay(1000)).ConfigureAwait(false);
            long now = Stopwatch.GetTimestamp();
            long completed = clients.Sum(c => Volatile.Read(ref c.Requests));
            string phase = now < warmupEndTicks ? "warm-up" : "measuring";
            Console.WriteLine($"  {name}: t={(now - startTicks) / (double)Stopwatch.Frequency:F0}s {phase} completed={completed} (+{completed - previous})");
            previous = completed;
        }
    }

    /// <summary>State the clients share: the request counter, the latency histogram, the error count and the first error.</summary>
    private sealed class SharedState(PeersOptions options, HistogramBase latencyUs)
    {
        public readonly PeersOptions Options = options;
        public readonly HistogramBase LatencyUs = latencyUs;
        // Interlocked: each index is handed to exactly one client, so every system sees each authorization once.
        public long NextRequestIndex;
        public long Errors;
        public string? FirstError;
    }

    private sealed class Client(IAuthorizeSystem system, AuthorizeWorkload workload, SharedState shared, long warmupEndTicks, long endTicks)
    {
        // Written by this client only; read by the progress reporter (Volatile) and after the run.
        public long Requests;
        public long Approvals, Errors, ApprovedAmountMinor;
        public long CompletedInWindow, MeasuredApprovals, MeasuredDeclines, MeasuredErrors;
        public long LastCompletionTicks;

        public async Task RunAsync(CancellationTokenSource stop)
        {
            CancellationToken ct = stop.Token;
            while (!ct.IsCancellationRequested && Stopwatch.GetTimestamp() < endTicks)
            {
                long index = Interlocked.Increment(ref shared.NextRequestIndex) - 1;
                if (index >= shared.Options.MaxRequests) return;
                (int accountIndex, long amountMinor) = workload.At(index);
                long sentTicks = Stopwatch.GetTimestamp();
                bool? approved;
                try
                {
                    approved = await system.AuthorizeAsync(index, accountIndex, amountMinor, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    approved = null;
                    Interlocked.CompareExchange(ref shared.FirstError, $"{system.Name} request {index}: {e.GetType().Name}: {e.Message}", null);
                    if (Interlocked.Increment(ref shared.Errors) >= shared.Options.ErrorsMax) stop.Cancel();
                }
                long doneTicks = Stopwatch.GetTimestamp();
                Record(approved, amountMinor, sentTicks, doneTicks);
            }
        }

        private void Record(bool? approved, long amountMinor, long sentTicks, long doneTicks)
        {
            Volatile.Write(ref Requests, Requests + 1);
            LastCompletionTicks = doneTicks;
            if (approved == true)
            {
                Approvals++;
                ApprovedAmountMinor += amountMinor;
            }
            else if (approved is null)
            {
                Errors++;
            }
            if (doneTicks >= warmupEndTicks && doneTicks < endTicks) CompletedInWindow++;
            if (sentTicks < warmupEndTicks) return;
            long latencyUs = (doneTicks - sentTicks) * 1_000_000 / Stopwatch.Frequency;
            shared.LatencyUs.RecordValue(Math.Clamp(latencyUs, 1, LatencyUsMax));
            if (approved == true) MeasuredApprovals++;
            else if (approved == false) MeasuredDeclines++;
            else MeasuredErrors++;
        }
    }
}
