using Engine.Journal;

namespace Engine.Core;

/// <summary>
/// Bounded journal retention (<see cref="EngineOptions.TruncateJournal"/>): after each snapshot, truncates the journal
/// before the journal address of the oldest snapshot the store still keeps, so recovery always has a snapshot plus
/// the complete log after it — even when the newest snapshot turns out damaged.
/// </summary>
/// <remarks>
/// <para>Threads: the thread that wrote the snapshot (the decide thread, or the stopping thread for the shutdown
/// snapshot) only reads the kept snapshots' 64-byte headers and records the target; a dedicated background thread
/// runs <see cref="EventJournal.TruncateBefore"/> — one metadata commit (fdatasync), the unlinks and a directory fsync
/// — so the decide thread never waits for it. Targets only grow, and the worker always takes the newest, so a burst
/// of snapshots costs one truncation.</para>
/// <para>Failure: a truncation that fails is logged and the engine carries on with the old begin (nothing is lost;
/// the journal is just longer). An I/O failure of the commit also faults the journal, which stops the engine through
/// its next commit, as any journal I/O failure does.</para>
/// </remarks>
internal sealed class JournalRetention : IDisposable
{
    /// <summary>How long <see cref="Dispose"/> waits for a truncation in progress.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for a snapshot's address to become durable (only ever waits in the benchmark-only AcknowledgeBeforeFsync mode).</summary>
    private static readonly TimeSpan CommitWaitTimeout = TimeSpan.FromSeconds(30);

    private readonly EventJournal _journal;
    private readonly SnapshotStore _snapshots;
    private readonly long _retainBytesMin;
    private readonly long _pageSizeBytes;
    private readonly Action<string> _log;
    private readonly AutoResetEvent _wake = new(initialState: false);
    private readonly Thread _thread;

    // The highest truncation target requested. Raised (compare-exchange max) by the snapshot-writing thread, read by
    // the retention thread; the AutoResetEvent's Set/WaitOne pair orders the write before the worker's read.
    private long _requestedAddress;

    // Set by Dispose before it wakes the worker; the worker reads it before reading _requestedAddress, so a request
    // made before Dispose is always served on the worker's last pass.
    private volatile bool _stopping;
    private long _truncations;
    private int _disposed;

    public JournalRetention(EventJournal journal, SnapshotStore snapshots, EngineOptions options, Action<string> log)
    {
        _journal = journal;
        _snapshots = snapshots;
        _retainBytesMin = options.JournalRetainBytesMin;
        _pageSizeBytes = 1L << options.JournalPageSizeBits;
        _log = log;
        _thread = new Thread(Run) { Name = "engine-journal-retention", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Truncations that moved the journal's begin since start.</summary>
    public long Truncations => Volatile.Read(ref _truncations);

    /// <summary>
    /// Requests truncation up to the oldest kept snapshot. Call from the snapshot store's writer thread, after a
    /// snapshot was written (and at start-up), so the set of snapshots does not change during the listing.
    /// </summary>
    public void OnSnapshotsChanged()
    {
        if (!_snapshots.TryGetOldestJournalAddress(out long oldest))
        {
            _log("journal retention: the oldest snapshot's journal address is unknown (no snapshot, or a damaged header); not truncating this time");
            return;
        }
        long seen = Volatile.Read(ref _requestedAddress);
        while (oldest > seen)
        {
            long prior = Interlocked.CompareExchange(ref _requestedAddress, oldest, seen);
            if (prior == seen) break;
            seen = prior;
        }
        _wake.Set();
    }

    private void Run()
    {
        long served = 0;
        while (true)
        {
            _wake.WaitOne();
            bool stopping = _stopping;
            long requested = Volatile.Read(ref _requestedAddress);
            if (requested > served)
            {
                Truncate(requested);
                served = requested;
            }
            if (stopping) return;
        }
    }

    private void Truncate(long oldestSnapshotAddress)
    {
        long target = oldestSnapshotAddress;
        if (_retainBytesMin > 0)
        {
            // A page start is always a record boundary: the journal fills every page to its end (RecordFormat).
            long keepFrom = _journal.CommittedUntilAddress - _retainBytesMin;
            target = Math.Min(target, keepFrom & ~(_pageSizeBytes - 1));
        }
        long before = _journal.BeginAddress;
        if (target <= before) return;
        try
        {
            if (target > _journal.CommittedUntilAddress)
            {
                using var timeout = new CancellationTokenSource(CommitWaitTimeout);
                _journal.WaitForCommitAsync(target, timeout.Token).AsTask().GetAwaiter().GetResult();
            }
            long started = Environment.TickCount64;
            if (_journal.TruncateBefore(target))
            {
                Interlocked.Increment(ref _truncations);
                _log($"journal retention: the journal now begins at address {target} (was {before}; oldest kept snapshot at {oldestSnapshotAddress}) after {Environment.TickCount64 - started} ms");
            }
        }
        catch (Exception e)
        {
            // Everything, deliberately: an exception escaping this dedicated thread would kill the process, and a
            // failed truncation loses nothing (the log is only longer). I/O failures also fault the journal, which
            // stops the engine through its next commit.
            _log($"journal retention: truncating the journal before address {target} FAILED; it keeps its begin {before}. {e}");
        }
    }

    /// <summary>Serves the last request (e.g. after the shutdown snapshot), then stops the worker. Call before the journal is disposed.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping = true;
        _wake.Set();
        if (!_thread.Join(StopTimeout))
            _log($"journal retention: the retention thread did not stop within {StopTimeout.TotalSeconds:F0} s");
        else
            _wake.Dispose();
    }
}
