using System.Collections.Concurrent;
using System.Threading.Channels;
using Credit.V1;
using Grpc.Core;

namespace Engine.Client;

/// <summary>Settings of a <see cref="CommandBatcher"/>.</summary>
public sealed class CommandBatcherOptions
{
    /// <summary>Most commands per Execute batch (the server refuses more than its Server:ExecuteBatchSizeMax, default 10,000). Default 1,000.</summary>
    public int BatchSizeMax { get; set; } = 1000;
    /// <summary>Batches sent and not yet answered. Default 8 (the server's default read-ahead).</summary>
    public int InFlightBatchesMax { get; set; } = 8;
    /// <summary>Commands accepted and not yet answered; <see cref="CommandBatcher.SubmitAsync"/> waits beyond it. Default 100,000.</summary>
    public int QueuedCommandsMax { get; set; } = 100_000;
}

/// <summary>
/// Batching over <c>PipelineService.Execute</c> for high-throughput callers: many concurrent
/// <see cref="SubmitAsync"/> calls are packed into batches on one stream, and each caller gets its own reply.
/// Commands answered STATUS_ENGINE_UNAVAILABLE (ring full) and batches lost with the stream (UNAVAILABLE) are resent
/// with backoff — safe, because a resend carries the same request_id. Everything is bounded: queued commands
/// (<see cref="CommandBatcherOptions.QueuedCommandsMax"/>), batch size, batches in flight, attempts per command.
/// </summary>
public sealed class CommandBatcher : IAsyncDisposable
{
    private sealed class Item(Command command)
    {
        public readonly Command Command = command;
        public readonly TaskCompletionSource<CommandReply> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Attempts;
    }

    private readonly PipelineService.PipelineServiceClient _client;
    private readonly CreditEngineClientOptions _clientOptions;
    private readonly CommandBatcherOptions _options;
    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _capacity;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Task _loop;
    private ulong _nextBatchId;

    internal CommandBatcher(PipelineService.PipelineServiceClient client, CreditEngineClientOptions clientOptions, CommandBatcherOptions options)
    {
        if (options.BatchSizeMax < 1 || options.InFlightBatchesMax < 1 || options.QueuedCommandsMax < options.BatchSizeMax)
            throw new ArgumentException("CommandBatcherOptions: BatchSizeMax >= 1, InFlightBatchesMax >= 1, QueuedCommandsMax >= BatchSizeMax");
        _client = client;
        _clientOptions = clientOptions;
        _options = options;
        _capacity = new SemaphoreSlim(options.QueuedCommandsMax, options.QueuedCommandsMax);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues one command and completes with its reply once it is durable. Await these before <see cref="DisposeAsync"/>, which fails whatever is still unanswered.</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT (the command is malformed) or a retryable status after every attempt.</exception>
    public async Task<CommandReply> SubmitAsync(Command command, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
        await _capacity.WaitAsync(ct).ConfigureAwait(false);
        var item = new Item(command);
        try
        {
            if (!_queue.Writer.TryWrite(item)) throw new ObjectDisposedException(nameof(CommandBatcher));
            return await item.Completion.Task.ConfigureAwait(false);
        }
        finally
        {
            _capacity.Release();
        }
    }

    private async Task RunAsync()
    {
        CancellationToken ct = _disposing.Token;
        int streamFailures = 0;
        while (!ct.IsCancellationRequested)
        {
            var inFlight = new ConcurrentQueue<Item[]>();
            using var streamStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using AsyncDuplexStreamingCall<ExecuteRequest, ExecuteResponse> call = _client.Execute(cancellationToken: streamStop.Token);
            using var slots = new SemaphoreSlim(_options.InFlightBatchesMax, _options.InFlightBatchesMax);
            Task receiver = ReceiveAsync(call.ResponseStream, inFlight, slots, streamStop);
            Exception? failure = null;
            try
            {
                while (true)
                {
                    await slots.WaitAsync(streamStop.Token).ConfigureAwait(false);
                    Item[] batch = await NextBatchAsync(streamStop.Token).ConfigureAwait(false);
                    inFlight.Enqueue(batch);
                    var request = new ExecuteRequest { BatchId = ++_nextBatchId };
                    foreach (Item item in batch) request.Commands.Add(item.Command);
                    await call.RequestStream.WriteAsync(request, streamStop.Token).ConfigureAwait(false);
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
            if (rpc is not null && !RetryPolicy.IsRetryable(rpc.StatusCode) && inFlight.TryDequeue(out Item[]? refused))
            {
                // The server refuses a stream at the first bad batch, after answering every earlier one.
                foreach (Item item in refused) item.Completion.TrySetException(rpc);
            }
            while (inFlight.TryDequeue(out Item[]? unanswered))
            {
                foreach (Item item in unanswered) Retry(item, rpc ?? new RpcException(new global::Grpc.Core.Status(StatusCode.Unavailable, "stream lost")));
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

    private async Task ReceiveAsync(IAsyncStreamReader<ExecuteResponse> responses, ConcurrentQueue<Item[]> inFlight, SemaphoreSlim slots, CancellationTokenSource streamStop)
    {
        try
        {
            while (await responses.MoveNext(streamStop.Token).ConfigureAwait(false))
            {
                ExecuteResponse response = responses.Current;
                if (!inFlight.TryDequeue(out Item[]? batch) || batch.Length != response.Replies.Count)
                    throw new InvalidOperationException("Execute replies do not match the batches sent");
                for (int i = 0; i < batch.Length; i++)
                {
                    CommandReply reply = response.Replies[i];
                    if (reply.Status == Credit.V1.Status.EngineUnavailable) Retry(batch[i], new RpcException(new global::Grpc.Core.Status(StatusCode.ResourceExhausted, "engine ring full")));
                    else batch[i].Completion.TrySetResult(reply);
                }
                slots.Release();
            }
        }
        finally
        {
            // However the response stream ended, stop the sender so the stream is settled and reopened.
            await streamStop.CancelAsync().ConfigureAwait(false);
        }
    }

    private void Retry(Item item, RpcException lastError)
    {
        item.Attempts++;
        if (item.Attempts >= _clientOptions.MaxAttempts || _disposing.IsCancellationRequested)
        {
            item.Completion.TrySetException(lastError);
            return;
        }
        TimeSpan delay = RetryPolicy.Backoff(item.Attempts, _clientOptions);
        _ = Task.Delay(delay).ContinueWith(_ =>
        {
            if (!_queue.Writer.TryWrite(item)) item.Completion.TrySetException(new ObjectDisposedException(nameof(CommandBatcher)));
        }, TaskScheduler.Default);
    }

    private async Task<Item[]> NextBatchAsync(CancellationToken ct)
    {
        Item first = await _queue.Reader.ReadAsync(ct).ConfigureAwait(false);
        var batch = new List<Item>(Math.Min(_options.BatchSizeMax, 64)) { first };
        while (batch.Count < _options.BatchSizeMax && _queue.Reader.TryRead(out Item? next)) batch.Add(next);
        return [.. batch];
    }

    private static void FailAll(ConcurrentQueue<Item[]> inFlight, Exception error)
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
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _disposing.Dispose();
        _capacity.Dispose();
    }
}
