using Credit.V1;
using Engine.Client;

namespace Engine.Bench.Peers;

/// <summary>
/// The engine over gRPC: the real server (<see cref="EngineServerProcess"/>), driven through the SDK on one
/// <see cref="Grpc.Net.Client.GrpcChannel"/>. <c>engine-grpc</c> sends one unary Authorize per request;
/// <c>engine-grpc-execute</c> hands each request to a <see cref="CommandBatcher"/>, which lets concurrent callers share
/// batches on one Execute stream; <c>engine-sdk</c> calls the SDK's typed <c>AuthorizeAsync</c> on a client with
/// <see cref="CreditEngineClientOptions.Multiplex"/> on, which coalesces the callers' calls into Execute batches on
/// its streams (what an application gets by setting one option). Either way a reply leaves the server only after its event is fsync'd.
/// The read-back asks the server's read model (GetAccount, at least at the highest sequence the run saw) for every account.
/// </summary>
internal sealed class EngineGrpcSystem(EngineGrpcSystem.Mode mode) : IAuthorizeSystem
{
    public enum Mode { Unary, Execute, Sdk, Stub }

    private readonly bool execute = mode == Mode.Execute;

    /// <summary>Concurrent calls while opening accounts and reading them back.</summary>
    private const int SetupConcurrency = 64;

    private readonly Dictionary<string, string> _settings = new(StringComparer.Ordinal);
    private EngineServerProcess? _server;
    private CreditEngineClient? _client;
    private CommandBatcher? _batcher;
    private CreditEngineClient? _multiplexed;
    private IReadOnlyList<string> _accountIds = [];
    // Highest event sequence seen in a reply; Interlocked max, read after the run for GetAccount's min_sequence.
    private long _sequenceMax;

    public string Name => mode switch { Mode.Execute => PeersOptions.EngineGrpcExecute, Mode.Sdk => PeersOptions.EngineSdk, Mode.Stub => PeersOptions.GrpcStub, _ => PeersOptions.EngineGrpc };
    public string PerAuthorization => mode == Mode.Stub
        ? "one unary Authorize call (HTTP/2, protobuf) to the stub server, which approves it at once: no validation, no ledger, no journal (the floor)"
        : mode switch
    {
        Mode.Execute => "Execute stream via CommandBatcher (requests of concurrent callers batched): ",
        Mode.Sdk => "SDK AuthorizeAsync with Multiplex on (callers' calls coalesced into Execute batches): ",
        _ => "one unary Authorize call (HTTP/2, protobuf): ",
    } + EngineWork.PerAuthorization;
    public bool Durable { get; private set; }
    public IReadOnlyDictionary<string, string> Settings => _settings;
    public IReadOnlyCollection<int> ServerProcessIds => _server?.ProcessId is int pid ? [pid] : [];

    public async Task StartAsync(AuthorizeWorkload workload, PeersOptions options, CancellationToken ct)
    {
        _accountIds = workload.AccountIds;
        if (mode == Mode.Stub)
        {
            _server = await EngineServerProcess.StartStubAsync(ct).ConfigureAwait(false);
            _client = new CreditEngineClient(_server.Address, new CreditEngineClientOptions { DefaultDeadline = TimeSpan.FromSeconds(60) });
            _settings["server"] = $"stub server (Engine.Bench stub-server) at {_server.Address}";
            _settings["client"] = "one GrpcChannel, unary Authorize (as engine-grpc)";
            Durable = false;
            return;
        }
        _server = await EngineServerProcess.StartAsync(options.GrpcServerMode, ct).ConfigureAwait(false);
        _client = new CreditEngineClient(_server.Address, new CreditEngineClientOptions { DefaultDeadline = TimeSpan.FromSeconds(60) });
        await ForEachAccountAsync(async accountId =>
        {
            OpenAccountResponse opened = await _client.OpenAccountAsync(new OpenAccountRequest
            {
                RequestId = $"open-{accountId}", AccountId = accountId, CustomerId = $"cust-{accountId}",
                Currency = EngineWork.Currency, CreditLimit = options.CreditLimitMinor,
            }, ct: ct).ConfigureAwait(false);
            if (opened.Status != Status.Ok) throw new InvalidOperationException($"OpenAccount {accountId} answered {opened.Status}");
        }, ct).ConfigureAwait(false);
        if (execute) _batcher = _client.CreateBatcher(new CommandBatcherOptions { Streams = 1 });
        if (mode == Mode.Sdk)
        {
            _multiplexed = new CreditEngineClient(_server.Address, new CreditEngineClientOptions
            {
                DefaultDeadline = TimeSpan.FromSeconds(60),
                Multiplex = true,
                Multiplexing = new CommandBatcherOptions { Streams = options.SdkStreams, InFlightBatchesMax = options.SdkInFlight },
            });
            _settings["multiplexing"] = $"streams={_multiplexed.Options.Multiplexing.Streams} in_flight_per_stream={_multiplexed.Options.Multiplexing.InFlightBatchesMax} batch_max={_multiplexed.Options.Multiplexing.BatchSizeMax} flush_delay_us={_multiplexed.Options.Multiplexing.FlushDelay.TotalMicroseconds}";
        }
        _settings["acknowledge_before_fsync"] = "false";
        _settings["server"] = $"{_server.Mode} at {_server.Address}";
        _settings["client"] = mode switch
        {
            Mode.Execute => "one GrpcChannel, CommandBatcher over one Execute stream",
            Mode.Sdk => "one CreditEngineClient with Multiplex = true (its own GrpcChannel), typed AuthorizeAsync",
            _ => "one GrpcChannel, unary Authorize",
        };
        Durable = !_server.LoggedAcknowledgeBeforeFsync();
    }

    public async ValueTask<bool> AuthorizeAsync(long requestIndex, int accountIndex, long amountMinor, CancellationToken ct)
    {
        var request = new AuthorizeRequest
        {
            RequestId = EngineWork.RequestId(requestIndex),
            AccountId = _accountIds[accountIndex],
            Amount = amountMinor,
            Currency = EngineWork.Currency,
        };
        Status status;
        long sequence;
        if (_batcher is not null)
        {
            CommandReply reply = await _batcher.SubmitAsync(new Command { Authorize = request }, ct).ConfigureAwait(false);
            (status, sequence) = (reply.Status, reply.Sequence);
        }
        else
        {
            AuthorizeResponse reply = await (_multiplexed ?? _client!).AuthorizeAsync(request, ct: ct).ConfigureAwait(false);
            (status, sequence) = (reply.Status, reply.Sequence);
        }
        RaiseSequenceMax(sequence);
        return EngineWork.IsApproved(status);
    }

    private void RaiseSequenceMax(long sequence)
    {
        long seen = Volatile.Read(ref _sequenceMax);
        while (sequence > seen)
        {
            long previous = Interlocked.CompareExchange(ref _sequenceMax, sequence, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }

    public async Task<long> ReadTotalHeldAsync(CancellationToken ct)
    {
        long total = 0;
        if (mode == Mode.Stub)
        {
            // The stub keeps one total of what it approved; GetAccount of any id answers it as held.
            GetAccountResponse stub = await _client!.GetAccountAsync(new GetAccountRequest { AccountId = _accountIds[0] }, ct: ct).ConfigureAwait(false);
            _settings["read_back"] = "the stub's total of approved amounts (GetAccount)";
            return stub.Account.Held;
        }
        long minSequence = Volatile.Read(ref _sequenceMax);
        await ForEachAccountAsync(async accountId =>
        {
            GetAccountResponse account = await _client!.GetAccountAsync(new GetAccountRequest { AccountId = accountId, MinSequence = minSequence }, ct: ct).ConfigureAwait(false);
            Interlocked.Add(ref total, account.Account.Held);
        }, ct).ConfigureAwait(false);
        _settings["read_back"] = $"GetAccount (read model) for every account at min_sequence {minSequence}";
        return total;
    }

    private Task ForEachAccountAsync(Func<string, Task> action, CancellationToken ct) =>
        Parallel.ForEachAsync(_accountIds, new ParallelOptions { MaxDegreeOfParallelism = SetupConcurrency, CancellationToken = ct },
            async (accountId, _) => await action(accountId).ConfigureAwait(false));

    public async ValueTask DisposeAsync()
    {
        if (_batcher is not null) await _batcher.DisposeAsync().ConfigureAwait(false);
        _batcher = null;
        _multiplexed?.Dispose();
        _multiplexed = null;
        _client?.Dispose();
        _client = null;
        if (_server is not null) await _server.DisposeAsync().ConfigureAwait(false);
        _server = null;
    }
}
