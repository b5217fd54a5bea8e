using Engine.Core;
using Engine.Domain;
using Engine.Journal;
using Engine.ReadModel;

namespace Engine.Server.Replication;

/// <summary>
/// A read replica's local store under <c>{Engine:DataDirectory}/replica</c>: its own copy of the upstream's log
/// (<c>journal</c>), its read-model snapshots (<c>snapshots</c>) and the upstream log epoch the copy belongs to. It
/// recovers the read model from them at start-up, appends each block from upstream and applies it, makes the copy
/// durable on a timer, and truncates what no snapshot and no history entry needs. No gRPC here: the
/// <see cref="UpstreamStream"/> brings the blocks and <see cref="SnapshotDownload"/> the upstream's snapshot.
/// </summary>
internal sealed class ReplicaStore : IDisposable
{
    /// <summary>File in the replica directory recording the upstream's log epoch (<see cref="LogEpochFile"/>).</summary>
    public const string UpstreamEpochFileName = "upstream.epoch";

    private readonly LedgerReadModel _readModel;
    private readonly EngineOptions _engine;
    private readonly ReadModelOptions _readModelOptions;
    private readonly ILogger _logger;
    private readonly Lock _journalLock = new(); // journal swap (rebuild) vs commit
    private EventJournal? _journal;
    private SnapshotStore? _snapshots;
    private DataDirectoryLock? _directoryLock;
    private byte[] _reencoded = [];
    // The upstream log epoch this copy belongs to (durable in UpstreamEpochFileName); -1 until known.
    private long _upstreamLogEpoch = -1;

    public ReplicaStore(LedgerReadModel readModel, EngineOptions engine, ReadModelOptions readModelOptions, ILogger logger)
    {
        _readModel = readModel;
        _engine = engine;
        _readModelOptions = readModelOptions;
        _logger = logger;
        DirectoryPath = Path.GetFullPath(Path.Combine(engine.DataDirectory, "replica"));
    }

    public string DirectoryPath { get; }

    public SnapshotStore Snapshots => _snapshots ?? throw new InvalidOperationException("the replica is not running");

    /// <summary>The sequence this replica had from its own disk at start-up (snapshot + local log).</summary>
    public long RecoveredSequence { get; private set; }

    /// <summary>The upstream log epoch recorded for this copy; -1 when none is.</summary>
    public long UpstreamLogEpoch => Volatile.Read(ref _upstreamLogEpoch);

    /// <summary>Records (durably) the upstream log epoch this copy belongs to from now on.</summary>
    public void RecordUpstreamLogEpoch(long epoch)
    {
        LogEpochFile.Write(Path.Combine(DirectoryPath, UpstreamEpochFileName), epoch);
        Volatile.Write(ref _upstreamLogEpoch, epoch);
    }

    /// <summary>Locks the directory and recovers the read model from the local snapshot and log (synchronously).</summary>
    public void Open()
    {
        Directory.CreateDirectory(DirectoryPath);
        _directoryLock = DataDirectoryLock.Acquire(DirectoryPath, "replica");
        OpenLocalState();
        _upstreamLogEpoch = LogEpochFile.Read(Path.Combine(DirectoryPath, UpstreamEpochFileName)) ?? -1;
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
                string path = Path.Combine(DirectoryPath, part);
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            }
        }
        _journal = EventJournal.Open(_engine.JournalOptionsAt(Path.Combine(DirectoryPath, "journal"), acknowledgesReplies: false), _logger);
        _snapshots = new SnapshotStore(Path.Combine(DirectoryPath, "snapshots"), _readModelOptions.SnapshotsKept, _logger);
    }

    /// <summary>
    /// Appends an upstream block (events <paramref name="firstSequence"/>..<paramref name="lastSequence"/>) to the local
    /// log and applies it: a block already applied is skipped, one that starts before the next sequence is cut to the
    /// new events first (so the local log has no duplicates), and one that leaves a gap throws. Only the stream's
    /// thread calls this.
    /// </summary>
    public void Append(ReadOnlySpan<byte> payload, long firstSequence, long lastSequence)
    {
        long applied = _readModel.AppliedSequence;
        if (lastSequence <= applied) return;
        if (firstSequence > applied + 1)
            throw new InvalidOperationException($"the upstream sent events from {firstSequence} but this replica needs {applied + 1}: sequences must be dense");
        if (firstSequence <= applied)
        {
            if (_reencoded.Length < payload.Length) _reencoded = new byte[payload.Length];
            payload = _reencoded.AsSpan(0, EventBlock.DropThrough(payload, applied, _reencoded));
        }
        EventJournal journal = _journal!;
        long address = journal.Append(payload);
        // This thread is the only appender, so the tail is where the next record goes.
        _readModel.ApplyRecord(payload, address, journal.TailAddress);
        if (_readModel.EventsSinceSnapshot >= _readModelOptions.SnapshotEveryEvents) WriteSnapshot();
    }

    /// <summary>
    /// Writes a read-model snapshot (the local log made durable up to it first), then truncates the local log below what
    /// is still needed: the oldest kept snapshot's start and the oldest event the history index points at.
    /// </summary>
    public SnapshotInfo WriteSnapshot()
    {
        SnapshotInfo info = _readModel.WriteSnapshot(Snapshots, _ => Commit());
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

    /// <summary>Makes the local log durable every <paramref name="intervalMs"/> until cancelled; a failed commit faults the read model.</summary>
    public async Task CommitLoopAsync(int intervalMs, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(intervalMs));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false)) Commit();
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
    public void Commit()
    {
        lock (_journalLock)
        {
            EventJournal? journal = _journal;
            if (journal is not null && journal.TailAddress > journal.CommittedUntilAddress) journal.Commit();
        }
    }

    /// <summary>
    /// Replaces the local log and state with <paramref name="ledger"/> (the upstream's snapshot) and writes a local
    /// snapshot so a restart resumes there. <paramref name="beforeVisible"/> runs after the swap and before the new state
    /// is visible to queries.
    /// </summary>
    public void ReplaceWith(Ledger ledger, Action beforeVisible)
    {
        _readModel.ReleaseJournal(); // before the old log is disposed and deleted: queries must not read it any more
        lock (_journalLock) OpenLocalFiles(empty: true);
        beforeVisible();
        _readModel.Reset(_journal, ledger);
        WriteSnapshot();
    }

    public void Dispose()
    {
        lock (_journalLock)
        {
            _journal?.Dispose();
            _journal = null;
        }
        _directoryLock?.Dispose();
    }
}
