using Credit.V1;
using Engine.Core;
using Engine.Journal;
using Engine.ReadModel;
using Grpc.Core;
using Grpc.Net.Client;

namespace Engine.Server.Replication;

/// <summary>
/// A read replica's feeder: the <see cref="UpstreamStream"/> brings its upstream's event blocks, the
/// <see cref="ReplicaStore"/> appends each to the replica's own copy of the log and applies it to the
/// <see cref="LedgerReadModel"/> — the same <see cref="Engine.Domain.Ledger.Apply"/> the engine uses. The copy is made
/// durable every Replica:CommitIntervalMs; snapshots of the read model go to <c>replica/snapshots</c>. A restart loads
/// the newest snapshot, replays the local log after it, and resumes upstream at <c>applied + 1</c>: a kill -9 at any
/// moment loses only what was not yet durable locally, which is fetched again.
/// <para>
/// When the upstream answers OUT_OF_RANGE (the events this replica needs were truncated from its journal), the
/// replica fetches the upstream's read-model snapshot (<see cref="SnapshotDownload"/>), replaces its local log and
/// state with it, and follows on from there. While the upstream is unreachable it keeps serving what it has,
/// labelled with its sequence and lag.
/// </para>
/// </summary>
public sealed class ReplicaFollower : IReadModelFeeder, IUpstreamStatus, IUpstreamHandler, IDisposable
{
    private readonly LedgerReadModel _readModel;
    private readonly EngineOptions _engine;
    private readonly ReplicaOptions _options;
    private readonly ServerRoleOptions _role;
    private readonly ILogger _logger;
    private readonly ReplicaStore _store;
    private GrpcChannel? _channel;
    private UpstreamStream? _stream;
    private CancellationTokenSource? _stopping;
    private Task? _follower;
    private Task? _committer;
    private long _snapshotRebuilds;

    public ReplicaFollower(LedgerReadModel readModel, EngineOptions engine, ReadModelOptions readModelOptions, ReplicaOptions options,
        ServerRoleOptions role, ILogger logger)
    {
        _readModel = readModel;
        _engine = engine;
        _options = options;
        _role = role;
        _logger = logger;
        _store = new ReplicaStore(readModel, engine, readModelOptions, logger);
    }

    public bool Connected => _stream?.Connected ?? false;
    public string LastError => _stream?.LastError ?? "";
    public long Reconnects => _stream?.Reconnects ?? 0;
    public long SnapshotRebuilds => Interlocked.Read(ref _snapshotRebuilds);
    public long RecoveredSequence => _store.RecoveredSequence;
    public string LeaderUrl => _role.LeaderUrl;
    /// <summary>
    /// The log epoch of the upstream stream this replica copies, and so of the stream it serves (0 before it first
    /// connected). A replica never follows an upstream across an epoch change: see <see cref="OnHeaders"/>.
    /// </summary>
    public long UpstreamLogEpoch => Math.Max(0, _store.UpstreamLogEpoch);

    public SnapshotStore Snapshots => _store.Snapshots;

    /// <summary>This follower itself: a replica reports on its upstream.</summary>
    IUpstreamStatus? IReadModelFeeder.Upstream => this;

    /// <summary>Recovers from the local disk (synchronously: queries are served only after) and starts following.</summary>
    public void Start(string name)
    {
        _store.Open();
        _logger.LogInformation("replica: recovered sequence {Sequence} from {Directory}; following {Leader}", RecoveredSequence, _store.DirectoryPath, _role.LeaderUrl);
        _channel = GrpcChannel.ForAddress(_role.LeaderUrl, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = _options.MaxReceiveMessageBytes,
            HttpHandler = Security.UpstreamTlsOptions.CreateHandler(_options, new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                // A leader that vanished without closing the connection is noticed within ~10 s.
                KeepAlivePingDelay = TimeSpan.FromSeconds(5),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            }),
        });
        _stream = new UpstreamStream(_channel, _readModel, _options, _role.LeaderUrl, _logger);
        _stopping = new CancellationTokenSource();
        _follower = Task.Run(() => _stream.RunAsync(name, this, _stopping.Token));
        _committer = Task.Run(() => _store.CommitLoopAsync(_options.CommitIntervalMs, _stopping.Token));
    }

    /// <summary>Stops following, makes the local log durable and writes a final snapshot.</summary>
    public async Task StopAsync()
    {
        if (_stopping is null) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (Task? task in new[] { _follower, _committer })
        {
            if (task is null) continue;
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        if (_readModel.Fault is null && _readModel.EventsSinceSnapshot > 0) WriteSnapshot();
        else _store.Commit();
    }

    /// <summary>Writes a read-model snapshot and truncates the local log below what is still needed (<see cref="ReplicaStore.WriteSnapshot"/>).</summary>
    public SnapshotInfo WriteSnapshot() => _store.WriteSnapshot();

    /// <summary>
    /// Records the upstream's head, and compares its log epoch with the one this copy was made under. A replica with no
    /// state yet (or none recorded) adopts it. A different epoch means the upstream's log was cut after damage and the
    /// sequences after the cut re-used for other events: resuming at applied + 1 would splice two histories into one
    /// copy. So the replica stops (queries answer UNAVAILABLE) and says how to rebuild.
    /// </summary>
    void IUpstreamHandler.OnHeaders(Metadata headers)
    {
        if (headers.GetValue(ReplicationHeaders.HeadSequence) is { } head && long.TryParse(head, out long headSequence)) _readModel.ObserveHead(headSequence);
        long upstream = headers.GetValue(ReplicationHeaders.LogEpoch) is { } text && long.TryParse(text, out long parsed) ? parsed : 0;
        long recorded = _store.UpstreamLogEpoch;
        if (recorded == upstream) return;
        if (recorded < 0 || _readModel.AppliedSequence == 0)
        {
            _store.RecordUpstreamLogEpoch(upstream);
            _logger.LogInformation("replica: copying the upstream's log epoch {Epoch}", upstream);
            return;
        }
        throw new InvalidOperationException(
            $"the upstream's log epoch changed from {recorded} to {upstream}: its journal was cut after damage and sequences after the cut were re-used, " +
            $"so this replica's copy (applied up to sequence {_readModel.AppliedSequence}) may hold events the upstream no longer has. " +
            $"The replica stopped following; delete '{_store.DirectoryPath}' and restart it to rebuild from the upstream.");
    }

    /// <summary>Verifies each block's checksum (the transport's integrity) and hands it to the local store.</summary>
    void IUpstreamHandler.OnMessage(SubscribeResponse response)
    {
        _readModel.ObserveHead(response.HeadSequence);
        foreach (Credit.V1.EventBlock block in response.Blocks)
        {
            if (block.LastSequence <= _readModel.AppliedSequence) continue;
            ReadOnlySpan<byte> payload = block.Payload.Span;
            if (Crc32C.Compute(payload) != block.Crc32C)
                throw new InvalidDataException($"event block {block.FirstSequence}..{block.LastSequence} from the upstream fails its checksum");
            _store.Append(payload, block.FirstSequence, block.LastSequence);
        }
    }

    /// <summary>Replaces the local state with the upstream's newest read-model snapshot and follows on from there.</summary>
    async Task IUpstreamHandler.RebuildFromSnapshotAsync(CancellationToken ct)
    {
        string temporary = Path.Combine(_store.DirectoryPath, "upstream-snapshot.tmp");
        (Engine.Domain.Ledger ledger, long totalBytes) = await SnapshotDownload.FetchAsync(_channel!, temporary, LedgerReadModel.ReadModelLedgerOptions(_engine.Ledger), ct).ConfigureAwait(false);
        // Counted before the state is visible, so anyone who sees the rebuilt state also sees the count.
        _store.ReplaceWith(ledger, beforeVisible: () => Interlocked.Increment(ref _snapshotRebuilds));
        File.Delete(temporary);
        _logger.LogWarning("replica: rebuilt from the upstream's snapshot at sequence {Sequence} ({Bytes} bytes); history before it is not on this replica", ledger.LastSequence, totalBytes);
    }

    public void Dispose()
    {
        _channel?.Dispose();
        _store.Dispose();
        _stopping?.Dispose();
    }
}
