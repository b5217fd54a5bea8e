using System.Collections.Concurrent;
using System.Threading.Channels;
using Credit.V1;
using Grpc.Core;

namespace Engine.LoadTest;

/// <summary>
/// Sends each batch as one <c>ExecuteRequest</c> on <c>PipelineService.Execute</c>, spread round robin over a few
/// streams (stream s on connection s mod connections). Each stream has one writer (gRPC forbids concurrent writes) fed by a queue, and one reader that matches
/// responses to batches in order. No resends: commands answered STATUS_ENGINE_UNAVAILABLE are reported as such.
/// A stream that fails fails every batch on it and is reopened by the next send.
/// The queue is not bounded here: the scheduler's in-flight bound (<see cref="LoadTestOptions.MaxInFlight"/>) bounds it.
/// </summary>
public sealed class ExecuteStreamTarget : ILoadTarget
{
    private readonly ExecuteStream[] _streams;
    private int _next = -1;

    public ExecuteStreamTarget(IReadOnlyList<PipelineService.PipelineServiceClient> connections, int streams)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(streams, 1);
        ArgumentOutOfRangeException.ThrowIfZero(connections.Count);
        _streams = new ExecuteStream[streams];
        for (int s = 0; s < streams; s++) _streams[s] = new ExecuteStream(connections[s % connections.Count]);
    }

    public Task<IReadOnlyList<CommandReply>> SendAsync(Command[] commands, CancellationToken ct)
    {
        int stream = (int)((uint)Interlocked.Increment(ref _next) % (uint)_streams.Length);
        return _streams[stream].SendAsync(commands);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ExecuteStream stream in _streams) await stream.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>One Execute call at a time; replaced when it fails.</summary>
    private sealed class ExecuteStream(PipelineService.PipelineServiceClient client) : IAsyncDisposable
    {
        private readonly object _gate = new();
        private Connection? _current;
        private bool _disposed;

        public Task<IReadOnlyList<CommandReply>> SendAsync(Command[] commands)
        {
            var pending = new PendingBatch(commands);
            Connection connection;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_current is null || _current.Failed) _current = new Connection(client);
                connection = _current;
            }
            connection.Enqueue(pending);
            return pending.Replies.Task;
        }

        public async ValueTask DisposeAsync()
        {
            Connection? connection;
            lock (_gate)
            {
                _disposed = true;
                connection = _current;
                _current = null;
            }
            if (connection is not null) await connection.CloseAsync().ConfigureAwait(false);
        }
    }

    private sealed class PendingBatch(Command[] commands)
    {
        public readonly Command[] Commands = commands;
        public readonly TaskCompletionSource<IReadOnlyList<CommandReply>> Replies = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Connection
    {
        private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

        private readonly CancellationTokenSource _stop = new();
        private readonly AsyncDuplexStreamingCall<ExecuteRequest, ExecuteResponse> _call;
        private readonly Channel<PendingBatch> _outgoing = Channel.CreateUnbounded<PendingBatch>(new UnboundedChannelOptions { SingleReader = true });
        // Batches written and not answered, in the order written: the server answers in that order.
        private readonly ConcurrentQueue<PendingBatch> _awaiting = new();
        private readonly Task _writer;
        private readonly Task _reader;
        private ulong _nextBatchId;
        private volatile bool _failed;

        public Connection(PipelineService.PipelineServiceClient client)
        {
            _call = client.Execute(cancellationToken: _stop.Token);
            _writer = Task.Run(WriteAsync);
            _reader = Task.Run(ReadAsync);
        }

        public bool Failed => _failed;

        public void Enqueue(PendingBatch pending)
        {
            if (!_outgoing.Writer.TryWrite(pending))
                pending.Replies.TrySetException(new RpcException(new global::Grpc.Core.Status(StatusCode.Unavailable, "Execute stream closed")));
        }

        private async Task WriteAsync()
        {
            try
            {
                await foreach (PendingBatch pending in _outgoing.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
                {
                    // Queued before the write, so the reader always finds the batch a response answers.
                    _awaiting.Enqueue(pending);
                    var request = new ExecuteRequest { BatchId = ++_nextBatchId };
                    request.Commands.Add(pending.Commands);
                    await _call.RequestStream.WriteAsync(request, _stop.Token).ConfigureAwait(false);
                }
                await _call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Fail(e);
            }
        }

        private async Task ReadAsync()
        {
            Exception? failure = null;
            try
            {
                while (await _call.ResponseStream.MoveNext(_stop.Token).ConfigureAwait(false))
                {
                    ExecuteResponse response = _call.ResponseStream.Current;
                    if (!_awaiting.TryDequeue(out PendingBatch? pending) || pending.Commands.Length != response.Replies.Count)
                        throw new InvalidOperationException("Execute responses do not match the batches sent");
                    pending.Replies.TrySetResult(response.Replies);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
            Fail(failure ?? new RpcException(new global::Grpc.Core.Status(StatusCode.Unavailable, "Execute stream ended by the server")));
        }

        /// <summary>Fails every batch queued or awaiting a response; later sends go to a new connection.</summary>
        private void Fail(Exception error)
        {
            _failed = true;
            _outgoing.Writer.TryComplete();
            Exception reported = error as RpcException ?? (Exception)new RpcException(new global::Grpc.Core.Status(StatusCode.Unavailable, error.Message));
            while (_awaiting.TryDequeue(out PendingBatch? pending)) pending.Replies.TrySetException(reported);
            while (_outgoing.Reader.TryRead(out PendingBatch? pending)) pending.Replies.TrySetException(reported);
            _stop.Cancel();
        }

        public async Task CloseAsync()
        {
            _outgoing.Writer.TryComplete();
            try
            {
                await Task.WhenAll(_writer, _reader).WaitAsync(CloseTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Fail(new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "load test ended")));
            }
            // _stop is not disposed: a late Fail from the reader may still cancel it (it holds no timer).
            _call.Dispose();
        }
    }
}
