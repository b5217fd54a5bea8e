using Credit.V1;
using Engine.Core;
using Engine.Domain;
using Engine.Journal;
using Engine.Server.ReadModel;
using Grpc.Core;
using Grpc.Net.Client;
using DomainEvent = Engine.Domain.LedgerEvent;
using EventBlock = Engine.Domain.EventBlock;

namespace Engine.Server.Replication;

/// <summary>
/// A read replica's feeder. It subscribes to its upstream (<c>Engine:LeaderUrl</c>) in EVENT_BLOCKS format, appends
/// each block to its own copy of the log (<c>{Engine:DataDirectory}/replica/journal</c>) and applies it to the
/// <see cref="LedgerReadModel"/> — the same <see cref="Ledger.Apply"/> the engine uses. The copy is made durable every
/// Replica:CommitIntervalMs; snapshots of the read model go to <c>replica/snapshots</c>. A restart loads the newest
/// snapshot, replays the local log after it, and resumes upstream at <c>applied + 1</c>: a kill -9 at any moment
/// loses only what was not yet durable locally, which is fetched again.
/// <para>
/// When the upstream answers OUT_OF_RANGE (the events this replica needs were truncated from its journal), the
/// replica fetches the upstream's read-model snapshot (ReplicationService.GetSnapshot), verifies its checksum,
/// replaces its local log and state with it, and follows on from there. While the upstream is unreachable it keeps
/// serving what it has, labelled with its sequence and lag, and reconnects with exponential backoff and jitter.
/// </para>
/// </summary>
public sealed class ReplicaFollower : ISnapshotSource, IDisposable
{
    private readonly LedgerReadModel _readModel;
    private readonly EngineOptions _engine;
    private readonly ReadModelOptions _readModelOptions;
    private readonly ReplicaOptions _options;
    private readonly ServerRoleOptions _role;
    private readonly ILogger _logger;
    private readonly Lock _journalLock = new(); // journal swap (rebuild) vs commit
    private readonly string _directory;
    private EventJournal? _journal;
    private SnapshotStore? _snapshots;
    private DataDirectoryLock? _directoryLock;
    private GrpcChannel? _channel;
    private CancellationTokenSource? _stopping;
    private Task? _follower;
    private Task? _committer;
    private volatile bool _connected;
    private volatile string _lastError = "";
    private long _reconnects;
    private long _snapshotRebuilds;
    private byte[] _reencoded = [];
    // The upstream log epoch this replica's copy belongs to (durable in UpstreamEpochFileName); -1 until known.
    private long _upstreamLogEpoch = -1;

    /// <summary>File in the replica directory recording the upstream's log epoch (<see cref="LogEpochFile"/>).</summary>
    public const string UpstreamEpochFileName = "upstream.epoch";

    public ReplicaFollower(LedgerReadModel readModel, EngineOptions engine, ReadModelOptions readModelOptions, ReplicaOptions options,
        ServerRoleOptions role, ILogger logger)
    {
        _readModel = readModel;
        _engine = engine;
        _readModelOptions = readModelOptions;
        _options = options;
        _role = role;
        _logger = logger;
        _directory = Path.GetFullPath(Path.Combine(engine.DataDirectory, "replica"));
    }

    public bool Connected => _connected;
    public string LastError => _lastError;
    public long Reconnects => Interlocked.Read(ref _reconnects);
    public long SnapshotRebuilds => Interlocked.Read(ref _snapshotRebuilds);
    /// <summary>The sequence this replica had from its own disk at start-up (snapshot + local log).</summary>
    public long RecoveredSequence { get; private set; }
    public string LeaderUrl => _role.LeaderUrl;
    /// <summary>
    /// The log epoch of the upstream stream this replica copies, and so of the stream it serves (0 before it first
    /// connected). A replica never follows an upstream across an epoch change: see <see cref="CheckUpstreamEpoch"/>.
    /// </summary>
    public long UpstreamLogEpoch => Math.Max(0, Volatile.Read(ref _upstreamLogEpoch));

    public SnapshotStore Snapshots => _snapshots ?? throw new InvalidOperationException("the replica is not running");

    /// <summary>Recovers from the local disk (synchronously: queries are served only after) and starts following.</summary>
    public void Start(string name)
    {
        Directory.CreateDirectory(_directory);
        _directoryLock = DataDirectoryLock.Acquire(_directory, "replica");
        OpenLocalState();
        _upstreamLogEpoch = LogEpochFile.Read(Path.Combine(_directory, UpstreamEpochFileName)) ?? -1;
        _logger.LogInformation("replica: recovered sequence {Sequence} from {Directory}; following {Leader}", RecoveredSequence, _directory, _role.LeaderUrl);
        _channel = GrpcChannel.ForAddress(_role.LeaderUrl, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = _options.MaxReceiveMessageBytes,
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                // A leader that vanished without closing the connection is noticed within ~10 s.
                KeepAlivePingDelay = TimeSpan.FromSeconds(5),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            },
        });
        _stopping = new CancellationTokenSource();
        _follower = Task.Run(() => FollowAsync(name, _stopping.Token));
        _committer = Task.Run(() => CommitLoopAsync(_stopping.Token));
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
        else CommitLocal();
    }

    /// <summary>
    /// Writes a read-model snapshot (the local log made durable up to it first), then truncates the local log below what
    /// is still needed: the oldest kept snapshot's start and the oldest event the history index points at.
    /// </summary>
    public SnapshotInfo WriteSnapshot()
    {
        SnapshotInfo info = _readModel.WriteSnapshot(Snapshots, _ => CommitLocal());
        _logger.LogInformation("replica: snapshot at sequence {Sequence} written", info.Sequence);
        TrimLocalLog();
        return info;
    }

    private void TrimLocalLog()
    {
        if (!Snapshots.TryGetOldestJournalAddress(out long oldestSnapshot)) return;
        long floor = Math.Min(oldestSnapshot, _readModel.HistoryFloorAddress);
        try
        {
            lock (_journalLock)
            {
                EventJournal? journal = _journal;
                if (journal is not null && floor > journal.BeginAddress && journal.TruncateBefore(floor))
                    _logger.LogInformation("replica: local log truncated before address {Address}", floor);
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            // Keeping more log than needed is safe; losing the replica over it is not.
            _logger.LogWarning("replica: local log not truncated at {Address}: {Message}", floor, e.Message);
        }
    }

    private void OpenLocalState()
    {
        OpenLocalFiles(empty: false);
        long started = Environment.TickCount64;
        long fromAddress;
        try
        {
            fromAddress = _readModel.Attach(_journal, _snapshots, _engine.Ledger);
        }
        catch (JournalTruncatedException e)
        {
            // No local snapshot covers what is left of the local log: start empty; the upstream (or its snapshot) fills it again.
            _logger.LogWarning("replica: local state unusable ({Message}); starting empty", e.Message);
            OpenLocalFiles(empty: true);
            fromAddress = _readModel.Attach(_journal, _snapshots, _engine.Ledger);
        }
        long attached = Environment.TickCount64, snapshotSequence = _readModel.AppliedSequence;
        long? tornAt = null;
        using (JournalReader reader = _journal.OpenReader(fromAddress))
        {
            while (reader.TryReadNext(out ReadOnlySpan<byte> payload, out long address, out long nextAddress))
                _readModel.ApplyRecord(payload, address, nextAddress);
            if (reader.EndState.IsTornTail) tornAt = reader.EndState.Address;
        }
        if (tornAt is { } cut)
        {
            _logger.LogWarning("replica: local log ends in a torn record at address {Address}; cutting it (those events are fetched again)", cut);
            _snapshots.DeleteNewerThan(_readModel.AppliedSequence);
            _journal.CutTail(cut);
        }
        RecoveredSequence = _readModel.AppliedSequence;
        _logger.LogInformation("replica: recovery took {Ms} ms: snapshot at sequence {SnapshotSequence} in {SnapshotMs} ms, then {Replayed} events of the local log",
            Environment.TickCount64 - started, snapshotSequence, attached - started, RecoveredSequence - snapshotSequence);
    }

    /// <summary>Opens (creating when absent) the local log and snapshot store; with <paramref name="empty"/>, deletes both first.</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_journal), nameof(_snapshots))]
    private void OpenLocalFiles(bool empty)
    {
        if (empty)
        {
            _journal?.Dispose();
            foreach (string part in new[] { "journal", "snapshots" })
            {
                string path = Path.Combine(_directory, part);
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            }
        }
        _journal = EventJournal.Open(_engine.JournalOptionsAt(Path.Combine(_directory, "journal"), acknowledgesReplies: false),
            line => _logger.LogInformation("{JournalMessage}", line));
        _snapshots = new SnapshotStore(Path.Combine(_directory, "snapshots"), _readModelOptions.SnapshotsKept, line => _logger.LogInformation("{SnapshotMessage}", line));
    }

    private async Task FollowAsync(string name, CancellationToken ct)
    {
        var events = new EventService.EventServiceClient(_channel!);
        int delayMs = _options.ReconnectDelayMinMs;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var request = new SubscribeRequest { FromSequence = _readModel.AppliedSequence + 1, Format = SubscribeFormat.EventBlocks, SubscriberName = name };
                using AsyncServerStreamingCall<SubscribeResponse> call = events.Subscribe(request, cancellationToken: ct);
                Metadata headers = await call.ResponseHeadersAsync.ConfigureAwait(false);
                if (headers.GetValue(ReplicationHeaders.HeadSequence) is { } head && long.TryParse(head, out long headSequence)) _readModel.ObserveHead(headSequence);
                CheckUpstreamEpoch(headers);
                _connected = true;
                _lastError = "";
                Interlocked.Increment(ref _reconnects);
                delayMs = _options.ReconnectDelayMinMs;
                _logger.LogInformation("replica: following {Leader} from sequence {Sequence}", _role.LeaderUrl, request.FromSequence);
                while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false)) Apply(call.ResponseStream.Current);
                throw new IOException("the upstream ended the event stream");
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.OutOfRange)
            {
                _connected = false;
                _lastError = e.Status.Detail;
                _logger.LogError("replica: fell behind the upstream's log retention: {Detail}. Rebuilding from its snapshot.", e.Status.Detail);
                try
                {
                    await RebuildFromSnapshotAsync(ct).ConfigureAwait(false);
                }
                catch (Exception rebuild) when (!ct.IsCancellationRequested && rebuild is RpcException or IOException or InvalidDataException)
                {
                    _lastError = "snapshot rebuild failed: " + rebuild.Message;
                    _logger.LogWarning("replica: {Error}; retrying in {DelayMs} ms", _lastError, delayMs);
                    delayMs = await BackOffAsync(delayMs, ct).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is RpcException or IOException or InvalidDataException or HttpRequestException)
            {
                _connected = false;
                _lastError = e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message;
                _logger.LogWarning("replica: upstream {Leader} unavailable ({Error}); serving sequence {Sequence} and retrying in {DelayMs} ms",
                    _role.LeaderUrl, _lastError, _readModel.AppliedSequence, delayMs);
                delayMs = await BackOffAsync(delayMs, ct).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Anything else (a gap, an event that does not apply) means this copy cannot be trusted: stop serving it.
                _connected = false;
                _lastError = e.Message;
                _readModel.SetFault(e);
                _logger.LogCritical(e, "replica: stopped at sequence {Sequence}; queries answer UNAVAILABLE", _readModel.AppliedSequence);
                return;
            }
            finally
            {
                _connected = false;
            }
        }
    }

    /// <summary>
    /// Compares the upstream's log epoch (Subscribe header) with the one this copy was made under. A replica with no
    /// state yet (or none recorded) adopts it. A different epoch means the upstream's log was cut after damage and the
    /// sequences after the cut re-used for other events: resuming at applied + 1 would splice two histories into one
    /// copy. So the replica stops (queries answer UNAVAILABLE) and says how to rebuild.
    /// </summary>
    private void CheckUpstreamEpoch(Metadata headers)
    {
        long upstream = headers.GetValue(ReplicationHeaders.LogEpoch) is { } text && long.TryParse(text, out long parsed) ? parsed : 0;
        long recorded = Volatile.Read(ref _upstreamLogEpoch);
        if (recorded == upstream) return;
        if (recorded < 0 || _readModel.AppliedSequence == 0)
        {
            LogEpochFile.Write(Path.Combine(_directory, UpstreamEpochFileName), upstream);
            Volatile.Write(ref _upstreamLogEpoch, upstream);
            _logger.LogInformation("replica: copying the upstream's log epoch {Epoch}", upstream);
            return;
        }
        throw new InvalidOperationException(
            $"the upstream's log epoch changed from {recorded} to {upstream}: its journal was cut after damage and sequences after the cut were re-used, " +
            $"so this replica's copy (applied up to sequence {_readModel.AppliedSequence}) may hold events the upstream no longer has. " +
            $"The replica stopped following; delete '{_directory}' and restart it to rebuild from the upstream.");
    }

    /// <summary>Waits about <paramref name="delayMs"/> (±20% jitter, so replicas do not reconnect in lockstep); returns the next delay.</summary>
    private async Task<int> BackOffAsync(int delayMs, CancellationToken ct)
    {
        int jittered = (int)(delayMs * (0.8 + 0.4 * Random.Shared.NextDouble()));
        await Task.Delay(jittered, ct).ConfigureAwait(false);
        return Math.Min(delayMs * 2, _options.ReconnectDelayMaxMs);
    }

    private void Apply(SubscribeResponse response)
    {
        _readModel.ObserveHead(response.HeadSequence);
        foreach (Credit.V1.EventBlock block in response.Blocks)
        {
            long applied = _readModel.AppliedSequence;
            if (block.LastSequence <= applied) continue;
            ReadOnlySpan<byte> payload = block.Payload.Span;
            if (Crc32C.Compute(payload) != block.Crc32C)
                throw new InvalidDataException($"event block {block.FirstSequence}..{block.LastSequence} from the upstream fails its checksum");
            if (block.FirstSequence > applied + 1)
                throw new InvalidOperationException($"the upstream sent events from {block.FirstSequence} but this replica needs {applied + 1}: sequences must be dense");
            if (block.FirstSequence <= applied) payload = DropAppliedEvents(payload, applied);
            EventJournal journal = _journal!;
            long address = journal.Append(payload);
            // This thread is the only appender, so the tail is where the next record goes.
            _readModel.ApplyRecord(payload, address, journal.TailAddress);
            if (_readModel.EventsSinceSnapshot >= _readModelOptions.SnapshotEveryEvents) WriteSnapshot();
        }
    }

    /// <summary>The block without its events at or below <paramref name="applied"/>, so the local log has no duplicates.</summary>
    private ReadOnlySpan<byte> DropAppliedEvents(ReadOnlySpan<byte> payload, long applied)
    {
        if (_reencoded.Length < payload.Length) _reencoded = new byte[payload.Length];
        return _reencoded.AsSpan(0, EventBlock.DropThrough(payload, applied, _reencoded));
    }

    private async Task CommitLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.CommitIntervalMs));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false)) CommitLocal();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _readModel.SetFault(e);
            _logger.LogCritical(e, "replica: the local log failed to commit; queries answer UNAVAILABLE");
        }
    }

    /// <summary>Makes everything appended to the local log durable (one fsync) when anything is new.</summary>
    private void CommitLocal()
    {
        lock (_journalLock)
        {
            EventJournal? journal = _journal;
            if (journal is not null && journal.TailAddress > journal.CommittedUntilAddress) journal.Commit();
        }
    }

    /// <summary>
    /// Replaces the local state with the upstream's newest read-model snapshot: download to a temporary file, verify
    /// length and CRC-32C, then swap in a fresh local log and state and write a local snapshot so a restart resumes here.
    /// </summary>
    private async Task RebuildFromSnapshotAsync(CancellationToken ct)
    {
        string temporary = Path.Combine(_directory, "upstream-snapshot.tmp");
        var replication = new ReplicationService.ReplicationServiceClient(_channel!);
        long sequence = -1, totalBytes = -1, received = 0;
        uint crc = Crc32C.InitialState, expectedCrc = 0;
        bool complete = false;
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            using AsyncServerStreamingCall<SnapshotChunk> call = replication.GetSnapshot(new GetSnapshotRequest(), cancellationToken: ct);
            while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            {
                SnapshotChunk chunk = call.ResponseStream.Current;
                if (sequence < 0) (sequence, totalBytes) = (chunk.Sequence, chunk.TotalBytes);
                crc = Crc32C.Update(crc, chunk.Data.Span);
                received += chunk.Data.Length;
                if (received > totalBytes) throw new InvalidDataException($"upstream snapshot is longer than the {totalBytes} bytes it announced");
                await file.WriteAsync(chunk.Data.Memory, ct).ConfigureAwait(false);
                if (chunk.Last)
                {
                    expectedCrc = chunk.BodyCrc32C;
                    complete = true;
                    break;
                }
            }
        }
        if (!complete || received != totalBytes) throw new InvalidDataException($"upstream snapshot ended after {received} of {totalBytes} bytes");
        if (Crc32C.Finish(crc) != expectedCrc) throw new InvalidDataException("upstream snapshot fails its checksum");

        Ledger ledger;
        await using (var file = new FileStream(temporary, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            ledger = Ledger.ReadSnapshot(file, LedgerReadModel.ReadModelLedgerOptions(_engine.Ledger)); // its history section indexes the upstream's log: not used
        if (ledger.LastSequence != sequence) throw new InvalidDataException($"upstream snapshot says sequence {sequence} but holds {ledger.LastSequence}");
        ledger.CheckInvariants();

        _readModel.ReleaseJournal(); // before the old log is disposed and deleted: queries must not read it any more
        lock (_journalLock) OpenLocalFiles(empty: true);
        // Counted before the state is visible, so anyone who sees the rebuilt state also sees the count.
        Interlocked.Increment(ref _snapshotRebuilds);
        _readModel.Reset(_journal, ledger);
        WriteSnapshot();
        File.Delete(temporary);
        _logger.LogWarning("replica: rebuilt from the upstream's snapshot at sequence {Sequence} ({Bytes} bytes); history before it is not on this replica", sequence, totalBytes);
    }

    public void Dispose()
    {
        _channel?.Dispose();
        lock (_journalLock)
        {
            _journal?.Dispose();
            _journal = null;
        }
        _directoryLock?.Dispose();
        _stopping?.Dispose();
    }
}
