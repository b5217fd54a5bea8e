using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Credit.V1;
using Google.Rpc;
using Grpc.Core;

namespace Engine.Client;

/// <summary>Settings of a <see cref="CommandBatcher"/> (and of the multiplexer behind <see cref="CreditEngineClientOptions.Multiplex"/>).</summary>
public sealed class CommandBatcherOptions
{
    /// <summary>Most commands per Execute batch (the server refuses more than its Server:ExecuteBatchSizeMax, default 10,000). Default 1,000.</summary>
    public int BatchSizeMax { get; set; } = 1000;
    /// <summary>Batches sent and not yet answered, per stream. Default 8 (the server's default read-ahead).</summary>
    public int InFlightBatchesMax { get; set; } = 8;
    /// <summary>Commands accepted and not yet answered; <see cref="CommandBatcher.SubmitAsync(Command, CancellationToken)"/> waits beyond it (within its deadline). Default 100,000.</summary>
    public int QueuedCommandsMax { get; set; } = 100_000;
    /// <summary>Execute streams the commands are spread over (each on the client's channel, so HTTP/2 may put them on several connections). Default 2.</summary>
    public int Streams { get; set; } = 2;
    /// <summary>
    /// How long a batch smaller than <see cref="BatchSizeMax"/> may wait for more commands before it is sent.
    /// Zero (the default): a batch leaves as soon as a stream has a free in-flight slot, and the commands that arrive
    /// while every slot is busy form the next batch — batches grow with load by themselves, and no command waits for a
    /// timer. A positive delay (e.g. 200 µs) makes batches larger at low load at the price of that latency; the
    /// waiting yields the thread rather than sleeping (timers are too coarse for microseconds), so it costs CPU.
    /// </summary>
    public TimeSpan FlushDelay { get; set; } = TimeSpan.Zero;

    internal void Validate()
    {
        if (BatchSizeMax < 1) throw new ArgumentException("CommandBatcherOptions.BatchSizeMax must be >= 1");
        if (InFlightBatchesMax < 1) throw new ArgumentException("CommandBatcherOptions.InFlightBatchesMax must be >= 1");
        if (QueuedCommandsMax < BatchSizeMax) throw new ArgumentException("CommandBatcherOptions.QueuedCommandsMax must be >= BatchSizeMax");
        if (Streams < 1 || Streams > 64) throw new ArgumentException("CommandBatcherOptions.Streams must be 1..64");
        if (FlushDelay < TimeSpan.Zero || FlushDelay > TimeSpan.FromMilliseconds(100)) throw new ArgumentException("CommandBatcherOptions.FlushDelay must be 0..100 ms");
    }
}

/// <summary>
/// Multiplexing over <c>PipelineService.Execute</c>: any number of concurrent callers submit single commands, and
/// the batcher packs them into batches on a few streams; each caller gets its own reply. The semantics are those of a
/// unary call through <see cref="CreditEngineClient"/>:
/// <list type="bullet">
/// <item>a deadline per command (<see cref="CreditEngineClientOptions.DefaultDeadline"/> unless given), covering its
/// retries; when it passes the call throws DEADLINE_EXCEEDED (a command not yet sent is then not sent at all);</item>
/// <item>a command answered STATUS_ENGINE_UNAVAILABLE (ring full, retried as RESOURCE_EXHAUSTED) or lost with its stream
/// (UNAVAILABLE) is resent with backoff, at most <see cref="CreditEngineClientOptions.MaxAttempts"/> times — safe,
/// because the resend is the same command with the same request_id;</item>
/// <item>a malformed command fails only its own caller, with INVALID_ARGUMENT naming the field as the unary call would
/// (<c>amount</c>, not <c>commands[3].authorize.amount</c>); the other commands of its batch were not executed (the
/// server journals nothing of a refused batch) and are resent without counting an attempt;</item>
/// <item>any other refusal of a stream (e.g. FAILED_PRECONDITION from a read replica) fails the commands it carried.</item>
/// </list>
/// Everything is bounded: queued commands (<see cref="CommandBatcherOptions.QueuedCommandsMax"/>), batch size, batches in
/// flight per stream, attempts per command.
/// </summary>
public sealed class CommandBatcher : IAsyncDisposable
{
    private sealed class Item(Command command, long deadlineTimestamp)
    {
        public readonly Command Command = command;
        public readonly long DeadlineTimestamp = deadlineTimestamp;
        public readonly TaskCompletionSource<CommandReply> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Attempts;
        /// <summary>1 once the caller stopped waiting (deadline or cancellation): not sent any more.</summary>
        public int Abandoned;
    }

    private readonly PipelineService.PipelineServiceClient _client;
    private readonly CreditEngineClientOptions _clientOptions;
    private readonly CommandBatcherOptions _options;
    private readonly Action<long>? _observeSequence;
    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = false });
    private readonly SemaphoreSlim _capacity;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Task[] _loops;
    private long _nextBatchId;
    private long _batchesSent;
    private long _commandsSent;

    internal CommandBatcher(PipelineService.PipelineServiceClient client, CreditEngineClientOptions clientOptions, CommandBatcherOptions options, Action<long>? observeSequence = null)
    {
        options.Validate();
        _client = client;
        _clientOptions = clientOptions;
        _options = options;
        _observeSequence = observeSequence;
        _capacity = new SemaphoreSlim(options.QueuedCommandsMax, options.QueuedCommandsMax);
        _loops = [.. Enumerable.Range(0, options.Streams).Select(_ => Task.Run(RunStreamAsync))];
    }

    /// <summary>Execute batches sent so far (resends included).</summary>
    public long BatchesSent => Interlocked.Read(ref _batchesSent);
    /// <summary>Commands sent so far in those batches (resends included).</summary>
    public long CommandsSent => Interlocked.Read(ref _commandsSent);

    /// <summary>Queues one command with the client's default deadline; see <see cref="SubmitAsync(Command, TimeSpan?, CancellationToken)"/>.</summary>
    public Task<CommandReply> SubmitAsync(Command command, CancellationToken ct = default) => SubmitAsync(command, null, ct);

    /// <summary>
    /// Queues one command and completes with its reply once it is durable (business declines are replies). Await these
    /// before <see cref="DisposeAsync"/>, which fails whatever is still unanswered.
    /// </summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT (the command is malformed, naming the field), DEADLINE_EXCEEDED,
    /// or the last retryable status after every attempt.</exception>
    public async Task<CommandReply> SubmitAsync(Command command, TimeSpan? timeout, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
        TimeSpan budget = timeout ?? _clientOptions.DefaultDeadline;
        long deadline = Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);
        if (!_capacity.Wait(0) && !await _capacity.WaitAsync(budget, ct).ConfigureAwait(false))
            throw DeadlineExceeded("the client's queue stayed full");
        var item = new Item(command, deadline);
        try
        {
            if (!_queue.Writer.TryWrite(item)) throw new ObjectDisposedException(nameof(CommandBatcher));
            Task<CommandReply> reply = item.Completion.Task;
            if (!reply.IsCompleted)
            {
                try
                {
                    await reply.WaitAsync(Remaining(deadline), ct).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    Volatile.Write(ref item.Abandoned, 1);
                    if (!reply.IsCompleted) throw DeadlineExceeded("no reply within the deadline (the command may still have executed; resend it with the same request_id to learn its outcome)");
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    Volatile.Write(ref item.Abandoned, 1);
                    throw;
                }
            }
            return await reply.ConfigureAwait(false);
        }
        finally
        {
            _capacity.Release();
        }
    }

    private static TimeSpan Remaining(long deadlineTimestamp)
    {
        long ticks = deadlineTimestamp - Stopwatch.GetTimestamp();
        return ticks <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)ticks / Stopwatch.Frequency);
    }

    private static RpcException DeadlineExceeded(string why) => new(new global::Grpc.Core.Status(StatusCode.DeadlineExceeded, why));

    private async Task RunStreamAsync()
    {
        CancellationToken ct = _disposing.Token;
        int streamFailures = 0;
        while (!ct.IsCancellationRequested)
        {
            // A stream opens only once there is a batch to send (a client used only for queries holds none, and an
            // unreachable server costs no reconnect loop while idle). That batch is taken before the stream opens, so a
            // stream that fails at once still carries it and charges its commands an attempt, as a failed unary call would.
            Item[] first;
            try
            {
                first = await NextBatchAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            var inFlight = new Queue<Item[]>();
            using var streamStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using AsyncDuplexStreamingCall<ExecuteRequest, ExecuteResponse> call = _client.Execute(cancellationToken: streamStop.Token);
            using var slots = new SemaphoreSlim(_options.InFlightBatchesMax, _options.InFlightBatchesMax);
            // The first batch is in flight before anything can fail, so however the stream ends it is settled below.
            slots.Wait(0);
            ExecuteRequest firstRequest = Sending(first, inFlight);
            Task receiver = ReceiveAsync(call.ResponseStream, inFlight, slots, streamStop, () => streamFailures = 0);
            Exception? failure = null;
            try
            {
                await call.RequestStream.WriteAsync(firstRequest, streamStop.Token).ConfigureAwait(false);
                while (true)
                {
                    await slots.WaitAsync(streamStop.Token).ConfigureAwait(false);
                    Item[] batch = await NextBatchAsync(streamStop.Token).ConfigureAwait(false);
                    await call.RequestStream.WriteAsync(Sending(batch, inFlight), streamStop.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
            await streamStop.CancelAsync().ConfigureAwait(false);
            try
            {
                await receiver.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failure = e is RpcException || failure is not RpcException ? e : failure;
            }
            if (ct.IsCancellationRequested)
            {
                FailAll(inFlight, new ObjectDisposedException(nameof(CommandBatcher)));
                break;
            }
            // The stream ended: settle what was sent and not answered, then open a new one.
            RpcException? rpc = failure as RpcException;
            if (rpc is { StatusCode: StatusCode.Cancelled } && failure is not null) rpc = null; // our own cancellation after a transport failure
            bool retryable = rpc is null || RetryPolicy.IsRetryable(rpc.StatusCode);
            if (rpc is { StatusCode: StatusCode.InvalidArgument } && inFlight.TryDequeue(out Item[]? refused))
            {
                // The server refuses a stream at the first bad batch, after answering every earlier one, and journals
                // nothing of it: the malformed command fails its caller, the rest of the batch goes again.
                int bad = BadCommandIndex(rpc, out RpcException? perCommand);
                for (int i = 0; i < refused.Length; i++)
                {
                    if (bad < 0) refused[i].Completion.TrySetException(rpc);
                    else if (i == bad) refused[i].Completion.TrySetException(perCommand!);
                    else Requeue(refused[i]);
                }
                while (inFlight.TryDequeue(out Item[]? later))
                {
                    foreach (Item item in later) Requeue(item);
                }
                continue; // the stream was healthy: reopen at once
            }
            while (inFlight.TryDequeue(out Item[]? unanswered))
            {
                foreach (Item item in unanswered)
                {
                    if (retryable) Retry(item, rpc ?? new RpcException(new global::Grpc.Core.Status(StatusCode.Unavailable, "Execute stream lost: " + failure?.Message)));
                    else item.Completion.TrySetException(rpc!);
                }
            }
            streamFailures++;
            try
            {
                await Task.Delay(RetryPolicy.Backoff(Math.Min(streamFailures, 10), _clientOptions), ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        while (_queue.Reader.TryRead(out Item? left)) left.Completion.TrySetException(new ObjectDisposedException(nameof(CommandBatcher)));
    }

    /// <summary>Records <paramref name="batch"/> as in flight on the stream and builds its request.</summary>
    private ExecuteRequest Sending(Item[] batch, Queue<Item[]> inFlight)
    {
        var request = new ExecuteRequest { BatchId = (ulong)Interlocked.Increment(ref _nextBatchId) };
        foreach (Item item in batch) request.Commands.Add(item.Command);
        lock (inFlight) inFlight.Enqueue(batch);
        Interlocked.Increment(ref _batchesSent);
        Interlocked.Add(ref _commandsSent, batch.Length);
        return request;
    }

    private async Task ReceiveAsync(IAsyncStreamReader<ExecuteResponse> responses, Queue<Item[]> inFlight, SemaphoreSlim slots, CancellationTokenSource streamStop, Action answered)
    {
        try
        {
            while (await responses.MoveNext(streamStop.Token).ConfigureAwait(false))
            {
                ExecuteResponse response = responses.Current;
                Item[]? batch;
                lock (inFlight)
                {
                    if (!inFlight.TryPeek(out batch) || batch.Length != response.Replies.Count)
                        throw new InvalidOperationException("Execute replies do not match the batches sent");
                }
                long highest = 0;
                for (int i = 0; i < batch.Length; i++)
                {
                    CommandReply reply = response.Replies[i];
                    if (reply.Status == Credit.V1.Status.EngineUnavailable)
                    {
                        Retry(batch[i], new RpcException(new global::Grpc.Core.Status(StatusCode.ResourceExhausted, "engine is at capacity (ring full)")));
                        continue;
                    }
                    if (reply.Sequence > highest) highest = reply.Sequence;
                    batch[i].Completion.TrySetResult(reply);
                }
                lock (inFlight) inFlight.Dequeue();
                if (highest > 0) _observeSequence?.Invoke(highest);
                answered();
                slots.Release();
            }
        }
        finally
        {
            // However the response stream ended, stop the sender so the stream is settled and reopened.
            await streamStop.CancelAsync().ConfigureAwait(false);
        }
    }

    private static readonly Regex CommandField = new(@"^commands\[(\d+)\]\.(?:(?<kind>[a-z_]+)\.)?(?<field>.+)$", RegexOptions.CultureInvariant);

    /// <summary>The index of the malformed command a refusal names (<c>commands[i].kind.field</c>), and the error its caller gets: the unary one, naming <c>field</c>. -1 when the refusal names no single command.</summary>
    private static int BadCommandIndex(RpcException refusal, out RpcException? perCommand)
    {
        perCommand = null;
        Google.Rpc.Status? status = refusal.GetRpcStatus();
        BadRequest? badRequest = status?.GetDetail<BadRequest>();
        if (badRequest is null || badRequest.FieldViolations.Count != 1) return -1;
        BadRequest.Types.FieldViolation violation = badRequest.FieldViolations[0];
        Match match = CommandField.Match(violation.Field);
        if (!match.Success || !int.TryParse(match.Groups[1].ValueSpan, out int index)) return -1;
        string field = match.Groups["field"].Value == "command" && !match.Groups["kind"].Success ? "command" : match.Groups["field"].Value;
        perCommand = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = $"{field}: {violation.Description}",
            Details = { Google.Protobuf.WellKnownTypes.Any.Pack(new BadRequest { FieldViolations = { new BadRequest.Types.FieldViolation { Field = field, Description = violation.Description } } }) },
        }.ToRpcException();
        return index;
    }

    /// <summary>Sends <paramref name="item"/> again without counting an attempt (it was not executed).</summary>
    private void Requeue(Item item)
    {
        if (!_queue.Writer.TryWrite(item)) item.Completion.TrySetException(new ObjectDisposedException(nameof(CommandBatcher)));
    }

    /// <summary>Resends <paramref name="item"/> after backoff, as a unary call is retried: within its attempts and its deadline.</summary>
    private void Retry(Item item, RpcException lastError)
    {
        item.Attempts++;
        TimeSpan delay = RetryPolicy.Backoff(item.Attempts, _clientOptions);
        if (item.Attempts >= _clientOptions.MaxAttempts || _disposing.IsCancellationRequested || delay >= Remaining(item.DeadlineTimestamp))
        {
            item.Completion.TrySetException(lastError);
            return;
        }
        _ = Task.Delay(delay).ContinueWith(static (_, state) =>
        {
            var (batcher, item) = ((CommandBatcher, Item))state!;
            batcher.Requeue(item);
        }, (this, item), TaskScheduler.Default);
    }

    private async Task<Item[]> NextBatchAsync(CancellationToken ct)
    {
        var batch = new List<Item>(Math.Min(_options.BatchSizeMax, 64));
        while (batch.Count == 0)
        {
            if (!await _queue.Reader.WaitToReadAsync(ct).ConfigureAwait(false)) throw new ObjectDisposedException(nameof(CommandBatcher));
            Drain(batch);
            if (batch.Count > 0 && batch.Count < _options.BatchSizeMax && _options.FlushDelay > TimeSpan.Zero)
            {
                long until = Stopwatch.GetTimestamp() + (long)(_options.FlushDelay.TotalSeconds * Stopwatch.Frequency);
                while (batch.Count < _options.BatchSizeMax && Stopwatch.GetTimestamp() < until)
                {
                    await Task.Yield();
                    Drain(batch);
                }
            }
        }
        return [.. batch];
    }

    /// <summary>Takes queued commands into <paramref name="batch"/> up to the batch size, dropping those whose caller stopped waiting.</summary>
    private void Drain(List<Item> batch)
    {
        while (batch.Count < _options.BatchSizeMax && _queue.Reader.TryRead(out Item? next))
        {
            if (Volatile.Read(ref next.Abandoned) == 1 || next.Completion.Task.IsCompleted)
            {
                next.Completion.TrySetException(DeadlineExceeded("the caller stopped waiting before the command was sent; it was not sent"));
                continue;
            }
            batch.Add(next);
        }
    }

    private static void FailAll(Queue<Item[]> inFlight, Exception error)
    {
        while (inFlight.TryDequeue(out Item[]? batch))
        {
            foreach (Item item in batch) item.Completion.TrySetException(error);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposing.IsCancellationRequested) return;
        _queue.Writer.TryComplete();
        await _disposing.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _disposing.Dispose();
        _capacity.Dispose();
    }
}
