using System.Net.Http;
using Credit.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Engine.Client;

/// <summary>
/// Typed client of the credit engine. One instance (and its one <see cref="GrpcChannel"/>, which multiplexes every
/// call over HTTP/2) is meant to be shared by the whole application. Every call gets a deadline
/// (<see cref="CreditEngineClientOptions.DefaultDeadline"/> unless given) and is retried with backoff on
/// UNAVAILABLE / RESOURCE_EXHAUSTED with the same request — so the same request_id, which makes the retry safe:
/// the engine executes a command at most once and answers a duplicate with the recorded reply (replayed = true).
/// Business outcomes (declines) are replies, never exceptions; malformed requests throw <see cref="RpcException"/>
/// with INVALID_ARGUMENT.
/// </summary>
public sealed class CreditEngineClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly bool _ownsChannel;
    private readonly GrpcChannel[] _replicaChannels;
    private readonly QueryService.QueryServiceClient[] _replicaQueries;
    private readonly CommandBatcher? _multiplexer;
    private long _lastSeenSequence;
    private int _nextReplica;

    /// <summary>Connects to <paramref name="address"/>, e.g. <c>http://127.0.0.1:5000</c> (h2c) or <c>https://…</c> (TLS), with the options' credentials.</summary>
    public CreditEngineClient(string address, CreditEngineClientOptions? options = null)
        : this(CreateChannel(address, options ?? new CreditEngineClientOptions()), options, ownsChannel: true)
    {
    }

    /// <summary>Uses an existing channel (not disposed by this client).</summary>
    public CreditEngineClient(GrpcChannel channel, CreditEngineClientOptions? options = null)
        : this(channel, options, ownsChannel: false)
    {
    }

    private CreditEngineClient(GrpcChannel channel, CreditEngineClientOptions? options, bool ownsChannel)
    {
        Options = options ?? new CreditEngineClientOptions();
        Options.Validate();
        _channel = channel;
        _ownsChannel = ownsChannel;
        Authorization = new AuthorizationService.AuthorizationServiceClient(channel);
        Accounts = new AccountService.AccountServiceClient(channel);
        Pipeline = new PipelineService.PipelineServiceClient(channel);
        Events = new EventService.EventServiceClient(channel);
        Queries = new QueryService.QueryServiceClient(channel);
        _replicaChannels = [.. Options.ReplicaAddresses.Select(address => CreateChannel(address, Options))];
        _replicaQueries = [.. _replicaChannels.Select(replica => new QueryService.QueryServiceClient(replica))];
        if (Options.Multiplex) _multiplexer = new CommandBatcher(Pipeline, Options, Options.Multiplexing, ObserveSequence);
    }

    /// <summary>The highest <c>sequence</c> of any command reply this client received: what read-your-writes waits for.</summary>
    public long LastSeenSequence => Interlocked.Read(ref _lastSeenSequence);

    /// <summary>Raises <see cref="LastSeenSequence"/> to <paramref name="sequence"/> (e.g. from replies received elsewhere, such as a <see cref="CommandBatcher"/>).</summary>
    public void ObserveSequence(long sequence)
    {
        long current = Interlocked.Read(ref _lastSeenSequence);
        while (sequence > current)
        {
            long seen = Interlocked.CompareExchange(ref _lastSeenSequence, sequence, current);
            if (seen == current) return;
            current = seen;
        }
    }

    public CreditEngineClientOptions Options { get; }
    public GrpcChannel Channel => _channel;
    /// <summary>The generated clients, for calls this class does not wrap.</summary>
    public AuthorizationService.AuthorizationServiceClient Authorization { get; }
    public AccountService.AccountServiceClient Accounts { get; }
    public PipelineService.PipelineServiceClient Pipeline { get; }
    public EventService.EventServiceClient Events { get; }
    public QueryService.QueryServiceClient Queries { get; }

    public static GrpcChannel CreateChannel(string address, CreditEngineClientOptions options)
    {
        ChannelSecurity.ValidateApiKey(options.ApiKey, nameof(options.ApiKey));
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = options.MaxReceiveMessageBytes,
            HttpHandler = ChannelSecurity.Apply(new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            }, options.ApiKey, options.TrustedCertificateAuthorities, options.ClientCertificate),
        });
    }

    // Authorization path.
    public Task<AuthorizeResponse> AuthorizeAsync(AuthorizeRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Authorization.AuthorizeAsync, static r => new Command { Authorize = r }, timeout, ct);
    public Task<IncrementAuthorizationResponse> IncrementAuthorizationAsync(IncrementAuthorizationRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Authorization.IncrementAuthorizationAsync, static r => new Command { IncrementAuthorization = r }, timeout, ct);
    public Task<CaptureResponse> CaptureAsync(CaptureRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Authorization.CaptureAsync, static r => new Command { Capture = r }, timeout, ct);
    public Task<VoidResponse> VoidAsync(VoidRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Authorization.VoidAsync, static r => new Command { Void = r }, timeout, ct);
    public Task<ForcePostResponse> ForcePostAsync(ForcePostRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Authorization.ForcePostAsync, static r => new Command { ForcePost = r }, timeout, ct);
    public Task<RefundResponse> RefundAsync(RefundRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Authorization.RefundAsync, static r => new Command { Refund = r }, timeout, ct);
    public Task<RepayResponse> RepayAsync(RepayRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Authorization.RepayAsync, static r => new Command { Repay = r }, timeout, ct);

    // Administration.
    public Task<OpenAccountResponse> OpenAccountAsync(OpenAccountRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Accounts.OpenAccountAsync, static r => new Command { OpenAccount = r }, timeout, ct);
    public Task<ChangeLimitResponse> ChangeLimitAsync(ChangeLimitRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Accounts.ChangeLimitAsync, static r => new Command { ChangeLimit = r }, timeout, ct);
    public Task<SetTemporaryLimitResponse> SetTemporaryLimitAsync(SetTemporaryLimitRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Accounts.SetTemporaryLimitAsync, static r => new Command { SetTemporaryLimit = r }, timeout, ct);
    public Task<FreezeResponse> FreezeAsync(FreezeRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Accounts.FreezeAsync, static r => new Command { Freeze = r }, timeout, ct);
    public Task<UnfreezeResponse> UnfreezeAsync(UnfreezeRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Accounts.UnfreezeAsync, static r => new Command { Unfreeze = r }, timeout, ct);
    public Task<CloseAccountResponse> CloseAccountAsync(CloseAccountRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Accounts.CloseAccountAsync, static r => new Command { CloseAccount = r }, timeout, ct);
    public Task<SetSpendingControlsResponse> SetSpendingControlsAsync(SetSpendingControlsRequest request, TimeSpan? timeout = null, CancellationToken ct = default) =>
        CommandAsync(request, Accounts.SetSpendingControlsAsync, static r => new Command { SetSpendingControls = r }, timeout, ct);

    // Queries (read-only, so retrying them is always safe): to a replica when ReplicaAddresses are given, with
    // min_sequence raised to LastSeenSequence when ReadYourWrites is on.
    public Task<GetAccountResponse> GetAccountAsync(GetAccountRequest request, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        request.MinSequence = ReadYourWritesSequence(request.MinSequence);
        return QueryAsync<GetAccountRequest, GetAccountResponse>(request, queries => queries.GetAccountAsync, timeout, ct);
    }

    public Task<ListAuthorizationsResponse> ListAuthorizationsAsync(ListAuthorizationsRequest request, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        request.MinSequence = ReadYourWritesSequence(request.MinSequence);
        return QueryAsync<ListAuthorizationsRequest, ListAuthorizationsResponse>(request, queries => queries.ListAuthorizationsAsync, timeout, ct);
    }

    public Task<ListEventsResponse> ListEventsAsync(ListEventsRequest request, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        request.MinSequence = ReadYourWritesSequence(request.MinSequence);
        return QueryAsync<ListEventsRequest, ListEventsResponse>(request, queries => queries.ListEventsAsync, timeout, ct);
    }

    private long ReadYourWritesSequence(long requested) => Options.ReadYourWrites ? Math.Max(requested, LastSeenSequence) : requested;

    private async Task<TResponse> QueryAsync<TRequest, TResponse>(TRequest request,
        Func<QueryService.QueryServiceClient, Func<TRequest, CallOptions, AsyncUnaryCall<TResponse>>> method, TimeSpan? timeout, CancellationToken ct)
    {
        if (_replicaQueries.Length == 0) return await CallAsync(request, method(Queries), timeout, ct).ConfigureAwait(false);
        int replica = (int)((uint)Interlocked.Increment(ref _nextReplica) % (uint)_replicaQueries.Length);
        try
        {
            return await CallAsync(request, method(_replicaQueries[replica]), timeout, ct).ConfigureAwait(false);
        }
        catch (RpcException e) when (Options.FallBackToLeader && !ct.IsCancellationRequested
            && e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            // The replica is down or behind: the leader's own read model answers (with the same min_sequence).
            return await CallAsync(request, method(Queries), timeout, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Streams ledger events from <paramref name="fromSequence"/>, resuming transparently from last_seen + 1 after
    /// UNAVAILABLE (server restart), so the sequence the caller sees stays dense. Runs until <paramref name="ct"/> is cancelled.
    /// Stops with <see cref="LogEpochChangedException"/> when a resumed stream reports another log epoch than the first
    /// one: see <see cref="SubscribeAsync(long, long?, CancellationToken)"/>.
    /// </summary>
    public IAsyncEnumerable<LedgerEvent> SubscribeAsync(long fromSequence, CancellationToken ct = default) => SubscribeAsync(fromSequence, null, ct);

    /// <summary>
    /// As <see cref="SubscribeAsync(long, CancellationToken)"/>, checking every (re)connection's log epoch (the
    /// <c>credit-log-epoch</c> response header) against <paramref name="logEpoch"/> — the epoch a consumer stored next
    /// to its position — or, when null, against the epoch of the first connection. A different epoch means the
    /// engine's log was cut after damage and sequences re-used: the stream throws <see cref="LogEpochChangedException"/>
    /// instead of silently handing out events of another history under sequences the caller already has.
    /// </summary>
    public IAsyncEnumerable<LedgerEvent> SubscribeAsync(long fromSequence, long? logEpoch, CancellationToken ct = default) =>
        StreamAsync(Math.Max(1, fromSequence), subscriberName: "", durableCursor: false, logEpoch, ct);

    /// <summary>
    /// Streams ledger events for the named durable consumer <paramref name="subscriberName"/>: the first call
    /// registers its cursor on the leader (acknowledged at <paramref name="fromSequence"/> - 1), a later one resumes
    /// it — with <paramref name="fromSequence"/> = 0 from the cursor's acknowledged + 1. The leader keeps every event
    /// after the acknowledged sequence (within Engine:Retention's lag bounds and disk budget), so a consumer offline
    /// for hours or days resumes without a gap. Acknowledge processed events with <see cref="AcknowledgeCursorAsync"/>
    /// (each acknowledgement is one fsync on the leader: acknowledge every few thousand events or seconds, not every
    /// event). Resumes transparently from last_seen + 1 after UNAVAILABLE. A cursor the leader dropped (it lagged past
    /// its bounds) ends the stream with <see cref="RpcException"/> FAILED_PRECONDITION saying so.
    /// </summary>
    public IAsyncEnumerable<LedgerEvent> SubscribeAsync(string subscriberName, long fromSequence = 0, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriberName);
        ArgumentOutOfRangeException.ThrowIfNegative(fromSequence);
        return StreamAsync(fromSequence, subscriberName, durableCursor: true, logEpoch: null, ct);
    }

    /// <summary>Records durably that the named consumer has processed every event up to <paramref name="sequence"/> (retried like other calls: it is idempotent).</summary>
    public async Task<long> AcknowledgeCursorAsync(string subscriberName, long sequence, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        AcknowledgeCursorResponse response = await CallAsync(new AcknowledgeCursorRequest { SubscriberName = subscriberName, Sequence = sequence },
            (r, o) => Events.AcknowledgeCursorAsync(r, o), timeout, ct).ConfigureAwait(false);
        return response.AckedSequence;
    }

    /// <summary>Deletes the named consumer's cursor (it stops holding the leader's retention). False when there was none.</summary>
    public async Task<bool> DeleteCursorAsync(string subscriberName, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        DeleteCursorResponse response = await CallAsync(new DeleteCursorRequest { SubscriberName = subscriberName },
            (r, o) => Events.DeleteCursorAsync(r, o), timeout, ct).ConfigureAwait(false);
        return response.Deleted;
    }

    /// <summary>
    /// The resuming stream under the SubscribeAsync overloads; <paramref name="fromSequence"/> 0 only for a durable
    /// cursor's first call. Each (re)connection's log epoch must equal <paramref name="logEpoch"/>, or when null the
    /// first connection's.
    /// </summary>
    private async IAsyncEnumerable<LedgerEvent> StreamAsync(long fromSequence, string subscriberName, bool durableCursor, long? logEpoch,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        long next = fromSequence;
        long? expectedEpoch = logEpoch;
        int failures = 0;
        while (true)
        {
            var request = new SubscribeRequest { FromSequence = next, SubscriberName = subscriberName, DurableCursor = durableCursor };
            using AsyncServerStreamingCall<SubscribeResponse> call = Events.Subscribe(request, cancellationToken: ct);
            IAsyncEnumerator<SubscribeResponse> responses = call.ResponseStream.ReadAllAsync(ct).GetAsyncEnumerator(ct);
            bool connected;
            try
            {
                Metadata headers = await call.ResponseHeadersAsync.ConfigureAwait(false);
                long epoch = headers.GetValue(LogEpochHeader) is { } text && long.TryParse(text, out long parsed) ? parsed : 0;
                expectedEpoch ??= epoch;
                connected = epoch == expectedEpoch;
                if (!connected)
                {
                    await responses.DisposeAsync().ConfigureAwait(false);
                    throw new LogEpochChangedException(expectedEpoch.Value, epoch, next);
                }
            }
            catch (RpcException e) when (RetryPolicy.IsRetryableRead(e) && !ct.IsCancellationRequested)
            {
                connected = false;
            }
            while (connected)
            {
                bool moved;
                try
                {
                    moved = await responses.MoveNextAsync().ConfigureAwait(false);
                }
                catch (RpcException e) when (RetryPolicy.IsRetryableRead(e) && !ct.IsCancellationRequested)
                {
                    moved = false;
                }
                if (!moved) break;
                failures = 0;
                foreach (LedgerEvent ledgerEvent in responses.Current.Events)
                {
                    if (ledgerEvent.Sequence < Math.Max(1, next)) continue; // never hand out a duplicate
                    next = ledgerEvent.Sequence + 1;
                    yield return ledgerEvent;
                }
            }
            await responses.DisposeAsync().ConfigureAwait(false);
            failures++;
            await Task.Delay(RetryPolicy.Backoff(failures, Options), ct).ConfigureAwait(false);
        }
    }

    /// <summary>Subscribe response header carrying the server's log epoch (Engine.Server ReplicationHeaders.LogEpoch).</summary>
    public const string LogEpochHeader = "credit-log-epoch";

    /// <summary>A batching helper over Execute for high-throughput callers; see <see cref="CommandBatcher"/>.</summary>
    public CommandBatcher CreateBatcher(CommandBatcherOptions? options = null) => new(Pipeline, Options, options ?? new CommandBatcherOptions(), ObserveSequence);

    /// <summary>The multiplexer behind the command calls when <see cref="CreditEngineClientOptions.Multiplex"/> is on; null otherwise.</summary>
    public CommandBatcher? Multiplexer => _multiplexer;

    /// <summary>
    /// Executes one command of any kind: through the multiplexer when <see cref="CreditEngineClientOptions.Multiplex"/>
    /// is on, else through a <see cref="CommandBatcher"/> with the same settings made on first use. Same deadline,
    /// retry and error semantics as the typed calls.
    /// </summary>
    public Task<CommandReply> ExecuteAsync(Command command, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        CommandBatcher batcher = _multiplexer ?? LazyInitializer.EnsureInitialized(ref _lazyBatcher, () => new CommandBatcher(Pipeline, Options, Options.Multiplexing, ObserveSequence));
        return batcher.SubmitAsync(command, timeout, ct);
    }

    private CommandBatcher? _lazyBatcher;

    private Task<TResponse> CommandAsync<TRequest, TResponse>(TRequest request, Func<TRequest, CallOptions, AsyncUnaryCall<TResponse>> unary,
        Func<TRequest, Command> asCommand, TimeSpan? timeout, CancellationToken ct)
        where TResponse : class, ICommandReply, new() =>
        _multiplexer is null ? CallAsync(request, unary, timeout, ct) : MultiplexedAsync<TResponse>(asCommand(request), timeout, ct);

    private async Task<TResponse> MultiplexedAsync<TResponse>(Command command, TimeSpan? timeout, CancellationToken ct) where TResponse : class, ICommandReply, new()
    {
        CommandReply reply = await _multiplexer!.SubmitAsync(command, timeout, ct).ConfigureAwait(false);
        var response = new TResponse
        {
            Approved = reply.Approved,
            Status = reply.Status,
            ResponseCode = reply.ResponseCode,
            Available = reply.Available,
            Held = reply.Held,
            Posted = reply.Posted,
            Sequence = reply.Sequence,
            Replayed = reply.Replayed,
        };
        if (response is AuthorizeResponse authorize) authorize.AuthorizationId = reply.AuthorizationId;
        return response;
    }

    private async Task<TResponse> CallAsync<TRequest, TResponse>(TRequest request, Func<TRequest, CallOptions, AsyncUnaryCall<TResponse>> call, TimeSpan? timeout, CancellationToken ct)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? Options.DefaultDeadline);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                using AsyncUnaryCall<TResponse> pending = call(request, new CallOptions(deadline: deadline, cancellationToken: ct));
                TResponse response = await pending.ResponseAsync.ConfigureAwait(false);
                if (response is ICommandReply reply) ObserveSequence(reply.Sequence);
                return response;
            }
            catch (RpcException e) when (RetryPolicy.IsRetryable(e.StatusCode) && attempt < Options.MaxAttempts && !ct.IsCancellationRequested)
            {
                TimeSpan delay = RetryPolicy.Backoff(attempt, Options);
                if (DateTime.UtcNow + delay >= deadline) throw;
                await Task.Delay(delay, ct).ConfigureAwait(false);
            }
        }
    }

    public void Dispose()
    {
        // Unanswered multiplexed commands fail with ObjectDisposedException, as unary calls fail when the channel goes.
        _multiplexer?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _lazyBatcher?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (_ownsChannel) _channel.Dispose();
        foreach (GrpcChannel replica in _replicaChannels) replica.Dispose();
    }
}
