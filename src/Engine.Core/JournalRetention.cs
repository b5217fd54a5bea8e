using Engine.Domain;
using Engine.Journal;

namespace Engine.Core;

/// <summary>
/// Bounded journal retention (<see cref="EngineOptions.TruncateJournal"/>). Each pass truncates the journal before
/// <c>min(oldest kept snapshot, age floor, every live consumer cursor, JournalRetainBytesMin)</c>; the disk budget may
/// raise that (overriding the floor and cursors, with a warning), never above the oldest kept snapshot, so recovery
/// always has a snapshot plus the complete log after it — even when the newest snapshot turns out damaged.
/// </summary>
/// <remarks>
/// <para>Finding addresses: sequences and engine timestamps only grow along the log, and every page start is a record
/// boundary, so "the last record whose first event is older than the floor" (or "at or before a cursor's next
/// sequence") is a binary search over pages reading one record each (<see cref="JournalRecordProbe"/>). Truncating
/// before a record R whose first event qualifies removes only events that are earlier still, so it never removes an
/// event the floor or a cursor keeps; it may keep up to one page more than strictly needed.</para>
/// <para>Threads: the thread that wrote a snapshot (the decide thread, or the stopping thread for the shutdown
/// snapshot) only reads the kept snapshots' headers and records the oldest address; a dedicated background thread runs
/// the passes — after each snapshot and every <see cref="RetentionOptions.CheckIntervalMs"/> (the floor moves with
/// time, cursors with acknowledgements) — so the decide thread never waits for one. Passes are serialised by a lock
/// (tests run one synchronously with <see cref="RunPass"/>).</para>
/// <para>Failure: a pass that fails is logged and the engine carries on with the old begin (nothing is lost; the
/// journal is just longer). An I/O failure of the commit also faults the journal, which stops the engine through its
/// next commit, as any journal I/O failure does.</para>
/// </remarks>
internal sealed class JournalRetention : IDisposable
{
    /// <summary>How long <see cref="Dispose"/> waits for a pass in progress.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for a snapshot's address to become durable (only ever waits in the benchmark-only AcknowledgeBeforeFsync mode).</summary>
    private static readonly TimeSpan CommitWaitTimeout = TimeSpan.FromSeconds(30);

    private readonly EventJournal _journal;
    private readonly SnapshotStore _snapshots;
    private readonly ConsumerCursors _cursors;
    private readonly RetentionOptions _settings;
    private readonly TimeProvider _clock;
    private readonly long _retainBytesMin;
    private readonly long _pageSizeBytes;
    private readonly long _budgetBytes;
    private readonly ILogger _logger;
    private readonly AutoResetEvent _wake = new(initialState: false);
    private readonly object _passLock = new();
    private readonly Thread _thread;

    // The oldest kept snapshot's journal address, raised (compare-exchange max) by the snapshot-writing thread and
    // read by passes; 0 = not known yet (no snapshot, or a damaged header): then nothing is truncated.
    private long _snapshotAddress;

    // Set by Dispose before it wakes the worker; the worker reads it after waking, so a snapshot recorded before
    // Dispose is always served by the worker's last pass.
    private volatile bool _stopping;
    private long _truncations;
    private long _budgetOverrides;
    private string _lastWarning = "";
    private volatile RetentionStatus _status;
    private int _disposed;

    public JournalRetention(EventJournal journal, SnapshotStore snapshots, ConsumerCursors cursors, EngineOptions options, TimeProvider clock, ILogger logger)
    {
        _journal = journal;
        _snapshots = snapshots;
        _cursors = cursors;
        _settings = options.Retention;
        _clock = clock;
        _retainBytesMin = options.JournalRetainBytesMin;
        _pageSizeBytes = 1L << options.JournalPageSizeBits;
        _logger = logger;
        _budgetBytes = _settings.DiskBudgetBytes > 0 ? _settings.DiskBudgetBytes : AutomaticBudgetBytes(journal, options.DataDirectory);
        _status = new RetentionStatus { Enabled = true, DiskBudgetBytes = _budgetBytes, EventAgeMinMs = _settings.EventAgeMinMs, BeginAddress = journal.BeginAddress };
        logger.LogInformation("journal retention: keep events younger than {EventAgeMinMs} ms and what {Cursors} consumer " +
            "cursor(s) have not acknowledged, within a disk budget of {DiskBudgetBytes} bytes{BudgetSource}",
            
            _settings.EventAgeMinMs, cursors.All.Count(c => !c.Dropped), _budgetBytes,
            _settings.DiskBudgetBytes > 0 ? "" : " (automatic: the journal's size plus half the data volume's free space at start)");
        _thread = new Thread(Run) { Name = "engine-journal-retention", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Truncations that moved the journal's begin since start.</summary>
    public long Truncations => Volatile.Read(ref _truncations);

    /// <summary>The outcome of the last pass.</summary>
    public RetentionStatus Status => _status;

    /// <summary>
    /// Records the oldest kept snapshot and asks for a pass. Call from the snapshot store's writer thread, after a
    /// snapshot was written (and at start-up), so the set of snapshots does not change during the listing.
    /// </summary>
    public void OnSnapshotsChanged()
    {
        if (!_snapshots.TryGetOldestJournalAddress(out long oldest))
        {
            _logger.LogInformation("journal retention: the oldest snapshot's journal address is unknown (no snapshot, or a damaged header); not truncating this time");
            return;
        }
        long seen = Volatile.Read(ref _snapshotAddress);
        while (oldest > seen)
        {
            long prior = Interlocked.CompareExchange(ref _snapshotAddress, oldest, seen);
            if (prior == seen) break;
            seen = prior;
        }
        _wake.Set();
    }

    /// <summary>Asks the worker for a pass soon (after a cursor acknowledgement or deletion, say).</summary>
    public void RequestPass() => _wake.Set();

    private void Run()
    {
        while (true)
        {
            _wake.WaitOne(_settings.CheckIntervalMs);
            bool stopping = _stopping;
            RunPass();
            if (stopping) return;
        }
    }

    /// <summary>One retention pass, synchronously: evaluates every holder, drops cursors past their bounds, truncates.</summary>
    public void RunPass()
    {
        lock (_passLock)
        {
            try
            {
                Pass();
            }
            catch (Exception e)
            {
                // Everything, deliberately: an exception escaping this dedicated thread would kill the process, and a
                // failed pass loses nothing (the log is only longer). I/O failures also fault the journal, which
                // stops the engine through its next commit.
                Warn($"journal retention: the pass FAILED; the journal keeps its begin {_journal.BeginAddress}. {e}");
            }
        }
    }

    private void Pass()
    {
        long nowUnixMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        long begin = _journal.BeginAddress;
        long committed = _journal.CommittedUntilAddress;
        long snapshotAddress = Volatile.Read(ref _snapshotAddress);
        using var probe = new JournalRecordProbe(_journal);
        var search = new LogSearch(probe, begin, committed, _pageSizeBytes);

        // Each holder: the highest address retention may truncate before without removing what it keeps.
        var holders = new List<(string Holder, long Address)>
        {
            (RetentionHolder.Snapshot, snapshotAddress > 0 ? Math.Max(begin, snapshotAddress) : begin),
        };
        if (_retainBytesMin > 0)
            holders.Add((RetentionHolder.RetainBytesMin, search.LastPageStartAtOrBelow(committed - _retainBytesMin)));
        if (_settings.EventAgeMinMs > 0)
        {
            long cutoffUnixMs = nowUnixMs - _settings.EventAgeMinMs;
            holders.Add((RetentionHolder.AgeFloor, search.LastWhere(first => first.TimestampUnixMs < cutoffUnixMs)));
        }
        var lags = new List<CursorLag>();
        var cursorAddresses = new List<(ConsumerCursor Cursor, long Address)>();
        foreach (ConsumerCursor cursor in _cursors.All)
        {
            if (cursor.Dropped) continue;
            CursorPosition position = search.PositionOf(cursor.AckedSequence + 1);
            long lagMs = position.TimestampUnixMs > 0 ? Math.Max(0, nowUnixMs - position.TimestampUnixMs) : 0;
            long lagBytes = position.AtHead ? 0 : committed - position.Address;
            if (position.Gone)
            {
                Drop(cursor, $"the events after its acknowledged sequence {cursor.AckedSequence} are no longer in the journal (it begins at sequence {position.OldestSequence})", nowUnixMs);
                continue;
            }
            if (_settings.CursorLagMaxMs > 0 && lagMs > _settings.CursorLagMaxMs)
            {
                Drop(cursor, $"its oldest unacknowledged event (sequence {cursor.AckedSequence + 1}) is {lagMs} ms old, more than Engine:Retention:CursorLagMaxMs = {_settings.CursorLagMaxMs}", nowUnixMs);
                continue;
            }
            if (_settings.CursorLagBytesMax > 0 && lagBytes > _settings.CursorLagBytesMax)
            {
                Drop(cursor, $"its unacknowledged events span {lagBytes} journal bytes, more than Engine:Retention:CursorLagBytesMax = {_settings.CursorLagBytesMax}", nowUnixMs);
                continue;
            }
            lags.Add(new CursorLag(cursor.Name, lagMs, lagBytes));
            long keepFrom = position.AtHead ? committed : position.Address;
            cursorAddresses.Add((cursor, keepFrom));
            holders.Add((RetentionHolder.CursorPrefix + cursor.Name, keepFrom));
        }

        (string heldBy, long target) = holders.MinBy(h => h.Address);
        long snapshotBound = holders[0].Address;
        bool overrode = false;
        if (committed - target > _budgetBytes && target < snapshotBound)
        {
            // Over budget: truncate up to the budget, but never past what recovery needs.
            long budgetTarget = Math.Min(snapshotBound, search.FirstPageStartAtOrAbove(committed - _budgetBytes));
            if (budgetTarget > target)
            {
                string overridden = string.Join(", ", holders.Where(h => h.Address < budgetTarget).Select(h => h.Holder));
                Warn($"journal retention: the journal holds {committed - target} bytes, more than the disk budget of {_budgetBytes} bytes " +
                     $"(Engine:Retention:DiskBudgetBytes); truncating to address {budgetTarget} although {overridden} wanted more kept");
                foreach ((ConsumerCursor cursor, long address) in cursorAddresses)
                {
                    if (address >= budgetTarget) continue;
                    Drop(cursor, $"the disk budget of {_budgetBytes} bytes (Engine:Retention:DiskBudgetBytes) forced truncation past its unacknowledged events", nowUnixMs);
                    lags.RemoveAll(l => l.Name == cursor.Name);
                }
                target = budgetTarget;
                heldBy = target == snapshotBound ? RetentionHolder.Snapshot : RetentionHolder.DiskBudget;
                overrode = true;
                Interlocked.Increment(ref _budgetOverrides);
            }
        }
        if (committed - target > _budgetBytes && target >= snapshotBound && heldBy == RetentionHolder.Snapshot)
            Warn($"journal retention: the journal holds {committed - target} bytes, more than the disk budget of {_budgetBytes} bytes, but recovery needs everything after the oldest kept snapshot (address {snapshotBound})");

        if (target > begin) Truncate(target, heldBy);
        long newBegin = _journal.BeginAddress;
        FirstEvent oldest = search.FirstEventAt(newBegin);
        _status = new RetentionStatus
        {
            Enabled = true,
            HeldBy = heldBy,
            BeginAddress = newBegin,
            RetainedBytes = Math.Max(0, committed - newBegin),
            OldestSequence = oldest.Sequence,
            OldestTimestampUnixMs = oldest.TimestampUnixMs,
            DiskBudgetBytes = _budgetBytes,
            EventAgeMinMs = _settings.EventAgeMinMs,
            BudgetOverrodeFloor = overrode,
            BudgetOverrides = Volatile.Read(ref _budgetOverrides),
            LastWarning = Volatile.Read(ref _lastWarning),
            EvaluatedAtUnixMs = nowUnixMs,
            CursorLags = lags,
        };
    }

    private void Truncate(long target, string heldBy)
    {
        long before = _journal.BeginAddress;
        if (target > _journal.CommittedUntilAddress)
        {
            using var timeout = new CancellationTokenSource(CommitWaitTimeout);
            _journal.WaitForCommitAsync(target, timeout.Token).AsTask().GetAwaiter().GetResult();
        }
        long started = Environment.TickCount64;
        if (_journal.TruncateBefore(target))
        {
            Interlocked.Increment(ref _truncations);
            _logger.LogInformation("journal retention: the journal now begins at address {BeginAddress} (was {PreviousBegin}; held by " +
                "{HeldBy}) after {ElapsedMs} ms",
                target, before, heldBy, Environment.TickCount64 - started);
        }
    }

    private void Drop(ConsumerCursor cursor, string reason, long nowUnixMs)
    {
        if (_cursors.Drop(cursor, reason, nowUnixMs))
            Warn($"journal retention: consumer cursor '{cursor.Name}' DROPPED at acknowledged sequence {cursor.AckedSequence}: {reason}; it no longer holds retention, and its next Subscribe is refused until DeleteCursor");
    }

    private void Warn(string message)
    {
        Volatile.Write(ref _lastWarning, message);
        _logger.LogWarning("{RetentionWarning}", message);
    }

    /// <summary>The journal's current size plus half the data volume's free space, both at start.</summary>
    private static long AutomaticBudgetBytes(EventJournal journal, string dataDirectory)
    {
        long journalBytes = Math.Max(0, journal.CommittedUntilAddress - journal.BeginAddress);
        long freeBytes;
        try
        {
            freeBytes = new DriveInfo(Path.GetFullPath(dataDirectory)).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            freeBytes = long.MaxValue / 4; // unknown volume: no budget beyond the other bounds
        }
        return journalBytes + freeBytes / 2;
    }

    /// <summary>Serves one last pass (e.g. after the shutdown snapshot), then stops the worker. Call before the journal is disposed.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping = true;
        _wake.Set();
        if (!_thread.Join(StopTimeout))
            _logger.LogWarning("journal retention: the retention thread did not stop within {StopTimeoutSeconds:F0} s", StopTimeout.TotalSeconds);
        else
            _wake.Dispose();
    }

    /// <summary>The first event of a record: its sequence, timestamp, and the record's last sequence.</summary>
    private readonly record struct FirstEvent(long Sequence, long TimestampUnixMs, long LastSequence, long Address, long NextAddress);

    /// <summary>Where a cursor's next event sits.</summary>
    /// <param name="Address">The record holding it (or a record before it on the same page).</param>
    /// <param name="TimestampUnixMs">Its engine timestamp (0 when it is not in the journal yet).</param>
    /// <param name="AtHead">It is not in the journal yet: the cursor has acknowledged everything.</param>
    /// <param name="Gone">It was truncated already.</param>
    /// <param name="OldestSequence">The journal's first sequence.</param>
    private readonly record struct CursorPosition(long Address, long TimestampUnixMs, bool AtHead, bool Gone, long OldestSequence);

    /// <summary>Binary search over [begin, committed) by the first event of each page, with one record read per probe.</summary>
    private sealed class LogSearch(JournalRecordProbe probe, long begin, long committed, long pageSizeBytes)
    {
        private readonly Dictionary<long, FirstEvent> _read = [];

        /// <summary>Candidate record starts: the begin, then every page start after it and before the committed end.</summary>
        private long CandidateCount => committed <= begin ? 0 : 1 + Math.Max(0, (committed - 1) / pageSizeBytes - begin / pageSizeBytes);

        private long Candidate(long index) => index == 0 ? begin : (begin / pageSizeBytes + index) * pageSizeBytes;

        /// <summary>The last candidate whose first event satisfies <paramref name="deletable"/> (true on a prefix of the log), else the begin.</summary>
        public long LastWhere(Func<FirstEvent, bool> deletable)
        {
            long low = 0, high = CandidateCount - 1, found = begin;
            while (low <= high)
            {
                long middle = low + (high - low) / 2;
                long address = Candidate(middle);
                if (deletable(FirstEventAt(address)))
                {
                    found = address;
                    low = middle + 1;
                }
                else
                {
                    high = middle - 1;
                }
            }
            return found;
        }

        /// <summary>The last page start at or below <paramref name="address"/>, not before the begin.</summary>
        public long LastPageStartAtOrBelow(long address) => address <= begin ? begin : Math.Max(begin, address / pageSizeBytes * pageSizeBytes);

        /// <summary>The first page start at or above <paramref name="address"/>, at most the committed end (a record boundary too).</summary>
        public long FirstPageStartAtOrAbove(long address)
        {
            if (address <= begin) return begin;
            long pageStart = (address + pageSizeBytes - 1) / pageSizeBytes * pageSizeBytes;
            return Math.Min(pageStart, committed);
        }

        public CursorPosition PositionOf(long nextSequence)
        {
            if (CandidateCount == 0) return new CursorPosition(committed, 0, AtHead: true, Gone: false, 0);
            FirstEvent oldest = FirstEventAt(begin);
            if (nextSequence < oldest.Sequence) return new CursorPosition(begin, 0, AtHead: false, Gone: true, oldest.Sequence);
            long address = LastWhere(first => first.Sequence <= nextSequence);
            // Forward from there to the record holding nextSequence: at most the rest of one page (the next page
            // start's first event is already past it), or the log's last page.
            while (address < committed)
            {
                FirstEvent record = FirstEventAt(address);
                if (record.Sequence == 0) break; // only a filler up to the committed end
                if (record.LastSequence >= nextSequence)
                    return new CursorPosition(address, TimestampOf(address, nextSequence), AtHead: false, Gone: false, oldest.Sequence);
                address = record.NextAddress;
            }
            return new CursorPosition(committed, 0, AtHead: true, Gone: false, oldest.Sequence);
        }

        public FirstEvent FirstEventAt(long address)
        {
            if (_read.TryGetValue(address, out FirstEvent known)) return known;
            if (!probe.TryRead(address, out ReadOnlySpan<byte> payload, out long recordAddress, out long nextAddress)) return default;
            (long first, long last, long firstTimestampUnixMs) = SequenceRangeAt(payload, recordAddress);
            var read = new FirstEvent(first, firstTimestampUnixMs, last, recordAddress, nextAddress);
            _read[address] = read;
            return read;
        }

        private static (long First, long Last, long FirstTimestampUnixMs) SequenceRangeAt(ReadOnlySpan<byte> payload, long recordAddress)
        {
            try
            {
                return EventBlock.SequenceRange(payload);
            }
            catch (FormatException e)
            {
                throw new JournalCorruptException(recordAddress, $"journal record at address {recordAddress} does not decode: {e.Message}");
            }
        }

        private long TimestampOf(long address, long sequence)
        {
            probe.TryRead(address, out ReadOnlySpan<byte> payload, out _, out _);
            var block = new EventBlock.Reader(payload);
            while (block.TryNext(out LedgerEvent e, out _))
            {
                if (e.Sequence == sequence) return e.TimestampUnixMs;
            }
            throw new JournalCorruptException(address, $"journal record at address {address} does not hold sequence {sequence} although its range says so");
        }
    }
}
