using System.Globalization;
using Credit.V1;
using Grpc.Core;

namespace Engine.LoadTest;

/// <summary>
/// Paces the load and measures it.
/// <para>Open loop: send i is due at start + i × (commands per send) / rate. The scheduler issues every send that is
/// due without waiting for replies, so latency — from the intended send time to the reply — includes any stall of
/// the server <em>or of the generator itself</em> (no coordinated omission). A send that would take the outstanding
/// commands above <see cref="LoadTestOptions.MaxInFlight"/> is not queued: it is counted as a client-side error.</para>
/// <para>Closed loop: <see cref="LoadTestOptions.Concurrency"/> workers each send, await the reply, and send again;
/// latency is from the actual send.</para>
/// Time comes from a <see cref="TimeProvider"/> (timestamps, waits and the progress timer), so tests drive it with a
/// fake clock. The scheduler's waits have the timer's granularity (about 1 ms); lateness it causes is in the latency.
/// </summary>
public sealed class LoadRunner(LoadTestOptions options, ILoadTarget target, Workload workload, TimeProvider time, TextWriter progress)
{
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RunStatistics _stats = null!;
    private int _inFlight;
    private int _peakInFlight;
    private int _scheduleDone;
    private long _sendsClaimed;

    /// <summary>Commands sent and not answered yet.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public async Task<LoadTestResult> RunAsync(CancellationToken ct)
    {
        TimeSpan cpuBefore = Environment.CpuUsage.TotalTime;
        long startTs = time.GetTimestamp();
        _stats = new RunStatistics(startTs, time.TimestampFrequency, options.WarmupSeconds, options.Seconds);
        ITimer? progressTimer = options.Quiet ? null : time.CreateTimer(_ => PrintProgress(startTs), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        bool endedEarly;
        try
        {
            endedEarly = options.Mode == LoadMode.OpenLoop ? await OpenLoopAsync(startTs, ct).ConfigureAwait(false) : await ClosedLoopAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            progressTimer?.Dispose();
        }
        long scheduleEndTs = time.GetTimestamp();
        await DrainAsync().ConfigureAwait(false);
        long windowEndTs = Math.Min(scheduleEndTs, _stats.EndTimestamp);
        double measuredSeconds = endedEarly
            ? Math.Max(0, windowEndTs - _stats.WarmupEndTimestamp) / (double)time.TimestampFrequency
            : options.Seconds;
        LoadTestResult result = _stats.Finish(time.GetTimestamp(), measuredSeconds, workload.GeneratedByKind, Volatile.Read(ref _peakInFlight), endedEarly);
        long sentTotal = workload.GeneratedByKind.Values.Sum();
        double cpuUs = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMicroseconds;
        return result with { ClientCpuUsPerCommand = sentTotal == 0 ? 0 : cpuUs / sentTotal };
    }

    /// <summary>Constant arrival rate. Returns true when the run ended before --seconds (cancelled or --max-requests).</summary>
    private async Task<bool> OpenLoopAsync(long startTs, CancellationToken ct)
    {
        int commandsPerSend = options.CommandsPerSend;
        double ticksPerSend = time.TimestampFrequency * (double)commandsPerSend / options.RatePerSecond;
        long sendsMax = Math.Max(1, options.MaxRequests / commandsPerSend);
        long endTs = _stats.EndTimestamp;
        for (long send = 0; ;)
        {
            if (ct.IsCancellationRequested) return true;
            long intendedTs = startTs + (long)(send * ticksPerSend);
            if (intendedTs >= endTs) return false;
            if (send >= sendsMax) return true;
            long nowTs = time.GetTimestamp();
            if (intendedTs > nowTs)
            {
                // Timers tick in whole milliseconds: a shorter wait would round down to zero and spin the thread pool
                // (it did: a core burnt at 3,000/s). Waking up to 1 ms late is in the latency, as it should be.
                TimeSpan wait = TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(time.GetElapsedTime(nowTs, intendedTs).TotalMilliseconds)));
                try
                {
                    await Task.Delay(wait, time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return true;
                }
                continue;
            }
            Dispatch(intendedTs, commandsPerSend);
            send++;
        }
    }

    /// <summary>Issues one send without awaiting it, or refuses it when the in-flight bound is reached.</summary>
    private void Dispatch(long intendedTs, int commandsPerSend)
    {
        // Only this thread adds to _inFlight; replies only subtract, so the bound cannot be overshot between check and add.
        if (Volatile.Read(ref _inFlight) + commandsPerSend > options.MaxInFlight)
        {
            _stats.Offered(intendedTs, commandsPerSend, sent: false);
            return;
        }
        var commands = new Command[commandsPerSend];
        workload.Fill(commands);
        NoteSent(intendedTs, commandsPerSend);
        _ = SendAndRecordAsync(commands, intendedTs);
    }

    /// <summary>Fixed concurrency. Returns true when the run ended before --seconds.</summary>
    private async Task<bool> ClosedLoopAsync(CancellationToken ct)
    {
        var workers = new Task<bool>[options.Concurrency];
        for (int w = 0; w < workers.Length; w++) workers[w] = Task.Run(() => WorkerAsync(ct), CancellationToken.None);
        bool[] endedEarly = await Task.WhenAll(workers).ConfigureAwait(false);
        return endedEarly.Any(early => early);
    }

    private async Task<bool> WorkerAsync(CancellationToken ct)
    {
        int commandsPerSend = options.CommandsPerSend;
        long sendsMax = Math.Max(1, options.MaxRequests / commandsPerSend);
        while (true)
        {
            if (ct.IsCancellationRequested) return true;
            long sentTs = time.GetTimestamp();
            if (sentTs >= _stats.EndTimestamp) return false;
            if (Interlocked.Increment(ref _sendsClaimed) > sendsMax) return true;
            var commands = new Command[commandsPerSend];
            workload.Fill(commands);
            NoteSent(sentTs, commandsPerSend);
            await SendAndRecordAsync(commands, sentTs).ConfigureAwait(false);
        }
    }

    private void NoteSent(long intendedTs, int commands)
    {
        int inFlight = Interlocked.Add(ref _inFlight, commands);
        int peak;
        while (inFlight > (peak = Volatile.Read(ref _peakInFlight)) && Interlocked.CompareExchange(ref _peakInFlight, inFlight, peak) != peak)
        {
        }
        _stats.Offered(intendedTs, commands, sent: true);
    }

    private async Task SendAndRecordAsync(Command[] commands, long intendedTs)
    {
        try
        {
            IReadOnlyList<CommandReply> replies = await target.SendAsync(commands, CancellationToken.None).ConfigureAwait(false);
            long completedTs = time.GetTimestamp();
            workload.Learn(commands, replies);
            _stats.Replied(intendedTs, completedTs, replies);
        }
        catch (RpcException e)
        {
            _stats.Failed(intendedTs, time.GetTimestamp(), StatusLabels.Of(e.StatusCode), commands.Length);
        }
        catch (Exception e)
        {
            _stats.Failed(intendedTs, time.GetTimestamp(), "CLIENT_" + e.GetType().Name, commands.Length);
        }
        finally
        {
            // Interlocked gives the full fence that pairs with the one in DrainAsync: one of the two sees the other's write.
            if (Interlocked.Add(ref _inFlight, -commands.Length) == 0 && Volatile.Read(ref _scheduleDone) == 1) _drained.TrySetResult();
        }
    }

    /// <summary>Waits for the replies still outstanding, at most --timeout-ms + 1 s; what is left then counts as errors.</summary>
    private async Task DrainAsync()
    {
        Interlocked.Exchange(ref _scheduleDone, 1);
        if (Volatile.Read(ref _inFlight) == 0) _drained.TrySetResult();
        try
        {
            await _drained.Task.WaitAsync(TimeSpan.FromMilliseconds(options.TimeoutMs + 1000), time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Their intended times are not tracked one by one; they were sent last, so they count in the window.
            _stats.Failed(_stats.EndTimestamp - 1, time.GetTimestamp(), StatusLabels.DrainTimeout, Volatile.Read(ref _inFlight));
        }
    }

    private void PrintProgress(long startTs)
    {
        // The timer may tick a little early or late: the tick near k seconds reports second k (1-based), just ended.
        int elapsedSeconds = (int)Math.Round(time.GetElapsedTime(startTs).TotalSeconds);
        if (elapsedSeconds < 1) return;
        var second = _stats.Second(elapsedSeconds - 1);
        string phase = elapsedSeconds <= options.WarmupSeconds ? "  (warm-up)" : "";
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{elapsedSeconds,4}s] offered {second.Offered,9:N0}/s  achieved {second.Completed,9:N0}/s  in-flight {InFlight,7:N0}  " +
            $"p99 {second.P99Ms,8:F2} ms (run {second.RunP99Ms:F2} ms)  errors {second.Errors:N0} (run {second.RunErrors:N0}){phase}"));
    }
}
