using System.Diagnostics;
using System.Globalization;
using Engine.Domain;
using Engine.Journal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using DomainEvent = Engine.Domain.LedgerEvent;

namespace Engine.ReadModel;

/// <summary>
/// The read model (ARCHITECTURE.md "Reading"): its own <see cref="Ledger"/>, fed every durable event with
/// <see cref="Ledger.Apply"/> (the one definition of what an event means), plus per-account indexes, answering the
/// query RPCs. On a leader a <see cref="JournalProjector"/> feeds it from the engine's journal; on a read replica a
/// read replica's follower feeds it from the leader's stream through the replica's own copy of the
/// log. Either way it indexes a <see cref="EventJournal"/> it can read back: per-account history is 12 bytes an
/// event in memory (where the event sits, <see cref="EventLocation"/>) and the event itself on disk, so ListEvents
/// pages through months.
/// <para>
/// <b>Concurrency.</b> One feeder thread is the only writer. It takes a <see cref="ReaderWriterLockSlim"/> write lock
/// once per journal record (a whole group-committed block of events), after decoding it; queries take the read lock,
/// copy what they need and leave. History reads go to disk outside the lock. Waiting for <c>min_sequence</c> happens
/// outside the lock on an <see cref="AsyncSignal"/>.
/// </para>
/// <para>
/// <b>Queries write nothing.</b> Many queries hold the read lock at once, so everything they call — this class's
/// query methods, <see cref="AccountIndex.AuthorizationsAfter"/>, and the <see cref="Ledger"/>'s reads — must leave
/// shared state untouched: no lazily filled cache, no counter, no pruning on the way. State changes only in
/// methods that assert they hold the write lock (<see cref="AssertWriter"/>). Snapshot writing is a reader too: it
/// records the sequence it covers with a single volatile write that nothing else writes concurrently.
/// </para>
/// </summary>
public sealed class LedgerReadModel : IDisposable
{
    private readonly ReadModelOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<LedgerReadModel> _logger;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly AsyncSignal _advanced = new();
    private readonly SemaphoreSlim _snapshotting = new(1, 1);
    private readonly List<(DomainEvent Event, int Offset)> _decoded = [];
    private Dictionary<string, AccountIndex> _accounts = new(StringComparer.Ordinal);
    private SequenceIndex _sequenceIndex;
    private Ledger _ledger = new();
    private EventJournal? _journal;
    private JournalByteReader? _bytes;
    private long _historyEvents;
    private long _historyDropRetryAt;
    private long _historyFloorAddress;
    private long _appliedSequence;
    private long _appliedTimestampUnixMs;
    private long _appliedUntilAddress;
    private long _headSequence;
    // The applied sequence the newest snapshot covers: EventsSinceSnapshot is derived from it rather than counted, so a
    // snapshot written off the feeder thread (GetSnapshot for a replica) never races the feeder on a shared counter.
    private long _snapshotSequence;
    private volatile Exception? _fault;

    public LedgerReadModel(IOptions<ReadModelOptions> options, TimeProvider clock, ILogger<LedgerReadModel> logger)
    {
        _options = options.Value;
        _options.Validate();
        _clock = clock;
        _logger = logger;
        _sequenceIndex = new SequenceIndex(_options.SequenceIndexStride);
    }

    /// <summary>The ledger settings of a read model: the engine's, without the idempotency window (it never decides).</summary>
    public static LedgerOptions ReadModelLedgerOptions(LedgerOptions engine) =>
        engine with { IdempotencyMinEntries = 0, IdempotencyMinAgeMs = 0, IdempotencyMaxEntries = 1 };

    /// <summary>The last sequence applied (0 before the first event). Published after the state it describes.</summary>
    public long AppliedSequence => Volatile.Read(ref _appliedSequence);

    /// <summary>Engine time of the last applied event, Unix ms.</summary>
    public long AppliedTimestampUnixMs => Volatile.Read(ref _appliedTimestampUnixMs);

    /// <summary>The newest sequence known upstream: the leader's head as last announced, never below what is applied.</summary>
    public long HeadSequence => Math.Max(Volatile.Read(ref _headSequence), AppliedSequence);

    /// <summary>The journal address just after the last applied record: where a replay of this state resumes.</summary>
    public long AppliedUntilAddress => Volatile.Read(ref _appliedUntilAddress);

    /// <summary>Events applied since the last snapshot (sequences are dense, so the difference counts them).</summary>
    public long EventsSinceSnapshot => AppliedSequence - Volatile.Read(ref _snapshotSequence);

    /// <summary>The log this read model indexes; Subscribe serves from it.</summary>
    public EventJournal Journal => _journal ?? throw new ReadModelNotRunningException("the read model is starting up");

    /// <summary>Set when the feeder stopped on an error; queries then fail (UNAVAILABLE at the gRPC edge).</summary>
    public Exception? Fault => _fault;

    public void SetFault(Exception fault)
    {
        _fault = fault;
        _advanced.Set();
    }

    /// <summary>
    /// Lag in time: 0 when <paramref name="upstreamCurrent"/> (a leader; a replica whose stream is up) and caught up with
    /// the known head; otherwise now minus the last applied event's engine time, so it grows while a replica's leader
    /// is unreachable, even if nothing is missing, because nothing says so.
    /// </summary>
    public long LagMs(bool upstreamCurrent)
    {
        if (upstreamCurrent && AppliedSequence >= HeadSequence) return 0;
        long applied = AppliedTimestampUnixMs;
        if (applied == 0) return 0;
        return Math.Max(0, _clock.GetUtcNow().ToUnixTimeMilliseconds() - applied);
    }

    /// <summary>Records the upstream's head sequence (from a Subscribe message).</summary>
    public void ObserveHead(long sequence)
    {
        long current = Volatile.Read(ref _headSequence);
        while (sequence > current)
        {
            long seen = Interlocked.CompareExchange(ref _headSequence, sequence, current);
            if (seen == current) break;
            current = seen;
        }
    }

    /// <summary>Opens the engine's newest valid snapshot (a plain ledger snapshot), or returns false.</summary>
    public delegate bool LedgerSnapshotSource(out SnapshotInfo info, out Stream body);

    /// <summary>
    /// Starts (or restarts) from <paramref name="journal"/>: from the newest valid read-model snapshot in
    /// <paramref name="snapshots"/> when it covers a part of the log still there; else, when the log's beginning was
    /// truncated away, from <paramref name="fallback"/> (the engine's own snapshot: the ledger without history);
    /// else empty from the log's beginning. Returns the journal address the feeder replays from. Only the feeder calls
    /// this, before it applies anything.
    /// </summary>
    public long Attach(EventJournal journal, SnapshotStore snapshots, LedgerOptions engineLedgerOptions, LedgerSnapshotSource? fallback = null)
    {
        LedgerOptions ledgerOptions = ReadModelLedgerOptions(engineLedgerOptions);
        Ledger? ledger = null;
        var sequenceIndex = new SequenceIndex(_options.SequenceIndexStride);
        var accounts = new Dictionary<string, AccountIndex>(StringComparer.Ordinal);
        long historyEvents = 0;
        long fromAddress = journal.BeginAddress;
        if (snapshots.TryOpenNewestValid(out SnapshotInfo snapshot, out Stream body))
        {
            using (body)
            {
                if (Covers(snapshot, journal))
                {
                    ledger = Ledger.ReadSnapshot(body, ledgerOptions);
                    (historyEvents, uint format) = HistoryIndexSnapshot.Read(body, sequenceIndex, accounts, journal.BeginAddress);
                    RebuildAccounts(ledger, accounts);
                    if (format == HistoryIndexSnapshot.PackedFormatMagic)
                        _logger.LogInformation("read model: snapshot {Path} has the old packed history index (RMX1); loaded as is, the next snapshot is written as RMX2", snapshot.Path);
                    CheckSnapshotSequence(ledger, snapshot);
                    fromAddress = snapshot.JournalAddress;
                    _logger.LogInformation("read model: snapshot at sequence {Sequence} loaded ({Bytes} bytes, {HistoryEvents} history entries); replaying the log from address {Address}",
                        snapshot.Sequence, snapshot.BodyLength, historyEvents, fromAddress);
                }
                else
                {
                    _logger.LogWarning("read model: snapshot {Path} covers log address {Address}, outside the log's [{Begin}, {End}]; not used",
                        snapshot.Path, snapshot.JournalAddress, journal.BeginAddress, journal.CommittedUntilAddress);
                }
            }
        }
        if (ledger is null && journal.BeginAddress > EventJournal.FirstValidAddress)
        {
            // The log no longer starts at the first event: only a snapshot that the remaining log continues can rebuild the state.
            if (fallback is null || !fallback(out SnapshotInfo engineSnapshot, out Stream engineBody))
                throw new JournalTruncatedException(EventJournal.FirstValidAddress, journal.BeginAddress);
            using (engineBody)
            {
                if (!Covers(engineSnapshot, journal)) throw new JournalTruncatedException(engineSnapshot.JournalAddress, journal.BeginAddress);
                ledger = Ledger.ReadSnapshot(engineBody, ledgerOptions);
            }
            CheckSnapshotSequence(ledger, engineSnapshot);
            RebuildAccounts(ledger, accounts);
            fromAddress = engineSnapshot.JournalAddress;
            _logger.LogInformation("read model: the log was truncated and no read-model snapshot covers it; started from the engine's snapshot at sequence {Sequence} (history starts there)",
                engineSnapshot.Sequence);
        }
        Install(journal, ledger ?? new Ledger(ledgerOptions), sequenceIndex, accounts, historyEvents, fromAddress);
        return fromAddress;
    }

    private static bool Covers(SnapshotInfo snapshot, EventJournal journal) =>
        snapshot.JournalAddress >= journal.BeginAddress && snapshot.JournalAddress <= journal.CommittedUntilAddress;

    private static void CheckSnapshotSequence(Ledger ledger, SnapshotInfo snapshot)
    {
        if (ledger.LastSequence != snapshot.Sequence)
            throw new JournalCorruptException(snapshot.JournalAddress, $"snapshot {snapshot.Path} says sequence {snapshot.Sequence} but holds state up to {ledger.LastSequence}");
    }

    /// <summary>
    /// Replaces the whole state with <paramref name="ledger"/> (a snapshot fetched from upstream) over an empty
    /// <paramref name="journal"/>: history restarts here. Only the feeder calls this.
    /// </summary>
    public void Reset(EventJournal journal, Ledger ledger) =>
        Install(journal, ledger, new SequenceIndex(_options.SequenceIndexStride), RebuildAccounts(ledger, []), 0, journal.TailAddress);

    private void Install(EventJournal journal, Ledger ledger, SequenceIndex sequenceIndex, Dictionary<string, AccountIndex> accounts, long historyEvents, long fromAddress)
    {
        _lock.EnterWriteLock();
        try
        {
            JournalByteReader? previous = _bytes;
            _journal = journal;
            _bytes = new JournalByteReader(journal);
            previous?.Dispose();
            _ledger = ledger;
            _sequenceIndex = sequenceIndex;
            _accounts = accounts;
            _historyEvents = historyEvents;
            _historyDropRetryAt = 0;
            _historyFloorAddress = journal.BeginAddress;
            Volatile.Write(ref _snapshotSequence, ledger.LastSequence);
            Volatile.Write(ref _appliedUntilAddress, fromAddress);
            Volatile.Write(ref _appliedTimestampUnixMs, ledger.LastTimestampUnixMs);
            Volatile.Write(ref _appliedSequence, ledger.LastSequence);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
        _advanced.Set();
    }

    /// <summary>
    /// Stops history reads from the current log before its owner disposes or deletes it (a replica rebuilding from
    /// its upstream's snapshot): from now until <see cref="Reset"/> installs the new log, ListEvents finds no events on
    /// disk instead of reading a disposed log. Only the feeder calls this.
    /// </summary>
    public void ReleaseJournal()
    {
        _lock.EnterWriteLock();
        try
        {
            _bytes?.Dispose();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Applies one journal record (an event block) at <paramref name="address"/>; <paramref name="untilAddress"/> is
    /// where the next record starts. Events at or below the applied sequence are skipped; a gap throws.
    /// Returns the number of events applied.
    /// </summary>
    public int ApplyRecord(ReadOnlySpan<byte> payload, long address, long untilAddress)
    {
        _decoded.Clear();
        try
        {
            var block = new EventBlock.Reader(payload);
            while (block.TryNext(out DomainEvent e, out int offset)) _decoded.Add((e, offset));
        }
        catch (FormatException e)
        {
            throw new JournalCorruptException(address, $"journal record at address {address} does not decode: {e.Message}");
        }

        long expected = AppliedSequence + 1;
        int applied = 0;
        _lock.EnterWriteLock();
        try
        {
            foreach ((DomainEvent e, int offset) in _decoded)
            {
                if (e.Sequence < expected) continue; // already in this state (a block re-sent whole after a resume)
                // Always-on: a gap would make every balance after it silently wrong.
                if (e.Sequence != expected)
                    throw new InvalidOperationException($"read model expected sequence {expected} but the log continued with {e.Sequence}: sequences must be dense");
                if (applied == 0) _sequenceIndex.Observe(e.Sequence, address);
                _ledger.Apply(e);
                Index(e, new EventLocation(address, offset));
                expected++;
                applied++;
            }
            if (applied > 0)
            {
                DomainEvent last = _decoded[^1].Event;
                Volatile.Write(ref _appliedUntilAddress, untilAddress);
                Volatile.Write(ref _appliedTimestampUnixMs, last.TimestampUnixMs);
                // Published last: a query that sees this sequence sees its effects.
                Volatile.Write(ref _appliedSequence, last.Sequence);
            }
            if (_historyEvents > _options.HistoryEventsMax && _historyEvents >= _historyDropRetryAt) DropOldestHistory();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
        if (applied > 0) _advanced.Set();
        return applied;
    }

    private void Index(in DomainEvent e, EventLocation location)
    {
        AssertWriter();
        if (e.AccountId is not { Length: > 0 } accountId || !_ledger.TryGetAccount(accountId, out _)) return;
        if (!_accounts.TryGetValue(accountId, out AccountIndex? account))
        {
            account = new AccountIndex();
            _accounts.Add(accountId, account);
        }
        account.Events.Add(location);
        _historyEvents++;
        // An Authorized event creates the authorization at its own sequence (declines carry no authorization).
        if (e.Type == EventType.Authorized && e.AuthorizationId is { } authorizationId)
            account.AddAuthorization(authorizationId, e.Sequence, _ledger);
    }

    /// <summary>
    /// Keeps the history index within ReadModel:HistoryEventsMax by dropping the oldest quarter of the log's span
    /// from every account at once: O(accounts), amortised over a quarter of the history's events.
    /// </summary>
    private void DropOldestHistory()
    {
        if (_sequenceIndex.EntryAtFraction(0.25) is { } cut) DropHistoryBefore(cut.Address);
        // If that freed too little (a short index), do not sweep again on every record: wait for an eighth more.
        _historyDropRetryAt = _historyEvents + Math.Max(1, _options.HistoryEventsMax / 8);
    }

    /// <summary>The oldest log address the history index may still point at: the log must be kept from here on.</summary>
    public long HistoryFloorAddress => Volatile.Read(ref _historyFloorAddress);

    private void DropHistoryBefore(long address)
    {
        AssertWriter();
        if (address > _historyFloorAddress) Volatile.Write(ref _historyFloorAddress, address);
        long dropped = 0;
        foreach (AccountIndex account in _accounts.Values) dropped += account.Events.DropBefore(address);
        _historyEvents -= dropped;
        _sequenceIndex.DropBefore(address);
    }

    /// <summary>Every change to the read model's state happens under the write lock: queries only read (see the class remarks).</summary>
    [Conditional("DEBUG")]
    private void AssertWriter() => Debug.Assert(_lock.IsWriteLockHeld, "read-model state changed outside the write lock");

    /// <summary>Drops history and index entries for log records before <paramref name="address"/> (the log was truncated there).</summary>
    public void OnLogTruncated(long address)
    {
        _lock.EnterWriteLock();
        try
        {
            DropHistoryBefore(address);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Waits until <paramref name="sequence"/> is applied, bounded by <paramref name="ct"/> and ReadModel:MinSequenceWaitMaxMs.</summary>
    /// <returns>False when the wait timed out.</returns>
    public async Task<bool> WaitForSequenceAsync(long sequence, CancellationToken ct)
    {
        if (AppliedSequence >= sequence) return true;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.MinSequenceWaitMaxMs);
        try
        {
            while (true)
            {
                Task advanced = _advanced.WaitAsync();
                if (AppliedSequence >= sequence) return true;
                if (_fault is not null) return false;
                await advanced.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            return AppliedSequence >= sequence;
        }
    }

    /// <summary>A record boundary at or before the record holding <paramref name="sequence"/>; the journal's begin when unknown.</summary>
    public long StartAddressFor(long sequence)
    {
        _lock.EnterReadLock();
        try
        {
            EventJournal journal = Journal;
            long? known = _sequenceIndex.AddressAtOrBefore(sequence);
            return known is { } address && address >= journal.BeginAddress ? address : journal.BeginAddress;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// Writes a snapshot of this state (ledger, then the history and sequence indexes) to <paramref name="store"/>.
    /// Queries go on meanwhile (read lock); the feeder waits. <paramref name="beforeWrite"/> runs first with the
    /// address the snapshot covers, so a replica can make its log durable up to there.
    /// </summary>
    public SnapshotInfo WriteSnapshot(SnapshotStore store, Action<long>? beforeWrite = null)
    {
        _snapshotting.Wait();
        try
        {
            _lock.EnterReadLock();
            try
            {
                long address = AppliedUntilAddress;
                beforeWrite?.Invoke(address);
                SnapshotInfo info = store.Write(_ledger.LastSequence, address, stream =>
                {
                    _ledger.WriteSnapshot(stream);
                    HistoryIndexSnapshot.Write(stream, _sequenceIndex, _accounts);
                });
                Volatile.Write(ref _snapshotSequence, info.Sequence);
                return info;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
        finally
        {
            _snapshotting.Release();
        }
    }

    /// <summary>Adds every authorization the ledger holds to its account's index, in creation order.</summary>
    private static Dictionary<string, AccountIndex> RebuildAccounts(Ledger ledger, Dictionary<string, AccountIndex> accounts)
    {
        ReadOnlySpan<Account> all = ledger.Accounts;
        var byAccount = new Dictionary<int, List<Authorization>>();
        foreach (Authorization authorization in ledger.Authorizations)
        {
            if (!byAccount.TryGetValue(authorization.AccountIndex, out List<Authorization>? list)) byAccount[authorization.AccountIndex] = list = [];
            list.Add(authorization);
        }
        foreach ((int accountIndex, List<Authorization> list) in byAccount)
        {
            string accountId = all[accountIndex].Id;
            if (!accounts.TryGetValue(accountId, out AccountIndex? account)) accounts[accountId] = account = new AccountIndex();
            list.Sort((x, y) => x.CreatedSequence.CompareTo(y.CreatedSequence));
            foreach (Authorization authorization in list) account.AddAuthorization(authorization.Id, authorization.CreatedSequence, ledger);
        }
        return accounts;
    }

    /// <summary>A 128-bit digest of the read model's ledger, hex; equal on every server at the same applied sequence.</summary>
    public (long Sequence, string Digest) ComputeDigest()
    {
        _lock.EnterReadLock();
        try
        {
            return (_ledger.LastSequence, _ledger.ComputeDigest().ToString("x32", CultureInfo.InvariantCulture));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>The account now (temporary limit and available at the later of wall-clock and engine time); null when it does not exist.</summary>
    public AccountView? GetAccount(string accountId)
    {
        _lock.EnterReadLock();
        try
        {
            if (!_ledger.TryGetAccount(accountId, out Account account)) return null;
            long now = Math.Max(_clock.GetUtcNow().ToUnixTimeMilliseconds(), _ledger.LastTimestampUnixMs);
            long temporary = account.ActiveTemporaryLimit(now);
            return new AccountView(
                AccountId: account.Id,
                CustomerId: account.CustomerId,
                Currency: CurrencyCode.Unpack(account.CurrencyCode),
                Status: account.Status,
                CreditLimitMinor: account.CreditLimitMinor,
                TemporaryLimitMinor: account.TemporaryLimitMinor,
                TemporaryLimitExpiresAtUnixMs: account.TemporaryLimitExpiresAtUnixMs,
                TemporaryLimitActive: temporary > 0,
                HeldMinor: account.HeldMinor,
                PostedMinor: account.PostedMinor,
                AvailableMinor: account.Available(now),
                OvercapturePercent: account.OvercapturePercent,
                OpenAuthorizationCount: account.OpenAuthorizations,
                Controls: account.Controls?.Spec,
                Sequence: _ledger.LastSequence);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Null when the account does not exist.</summary>
    public AuthorizationPage? ListAuthorizations(string accountId, bool openOnly, long afterCreatedSequence, int pageSize)
    {
        _lock.EnterReadLock();
        try
        {
            if (!_ledger.TryGetAccount(accountId, out _)) return null;
            var authorizations = new List<AuthorizationView>();
            if (!_accounts.TryGetValue(accountId, out AccountIndex? index)) return new AuthorizationPage(_ledger.LastSequence, authorizations, null);
            long lastReturned = 0;
            bool more = false;
            foreach (Authorization authorization in index.AuthorizationsAfter(afterCreatedSequence, _ledger))
            {
                if (openOnly && authorization.State != AuthorizationState.Open) continue;
                if (authorizations.Count == pageSize) { more = true; break; }
                authorizations.Add(new AuthorizationView(
                    AuthorizationId: authorization.Id,
                    AccountId: accountId,
                    State: authorization.State,
                    AuthorizedMinor: authorization.AuthorizedMinor,
                    HeldMinor: authorization.HeldMinor,
                    CapturedMinor: authorization.CapturedMinor,
                    RefundedMinor: authorization.RefundedMinor,
                    ReversedMinor: authorization.ReversedMinor,
                    ExpiresAtUnixMs: authorization.ExpiresAtUnixMs,
                    ClosedAtUnixMs: authorization.State == AuthorizationState.Open ? 0 : authorization.ClosedAtUnixMs,
                    CreatedSequence: authorization.CreatedSequence));
                lastReturned = authorization.CreatedSequence;
            }
            return new AuthorizationPage(_ledger.LastSequence, authorizations, more ? lastReturned : null);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// A page of an account's events from the log, null when the account does not exist. Locations are copied under
    /// the lock a chunk at a time; the events are read from disk outside it, so a long page never holds up the feeder.
    /// </summary>
    public EventPage? ListEvents(string accountId, long fromSequence, int limit)
    {
        const int ChunkEntries = 1024;
        var chunk = new List<EventLocation>(ChunkEntries);
        Span<byte> buffer = stackalloc byte[EventCodec.EncodedSizeMax];
        List<DomainEvent>? events = null;
        long sequence = 0, oldestRetained = 0;
        JournalByteReader? bytes = null;
        EventLocation? lastLocation = null;
        // Bounded: every pass moves past at least one location of this account, or stops.
        while (true)
        {
            chunk.Clear();
            EventLocation? oldestLocation = null;
            _lock.EnterReadLock();
            try
            {
                if (events is null)
                {
                    if (!_ledger.TryGetAccount(accountId, out _)) return null;
                    events = [];
                    sequence = _ledger.LastSequence;
                    bytes = _bytes ?? throw new ReadModelNotRunningException("the read model is starting up");
                }
                if (_accounts.TryGetValue(accountId, out AccountIndex? index) && index.Events.Count > 0)
                {
                    EventLocations locations = index.Events;
                    if (lastLocation is null) oldestLocation = locations[0];
                    int at;
                    if (lastLocation is { } last)
                    {
                        // Resume after the last location read; positions may have shifted if retention dropped the front.
                        at = locations.FirstAfter(last);
                    }
                    else
                    {
                        at = fromSequence > 1 && _sequenceIndex.AddressAtOrBefore(fromSequence) is { } startAddress ? locations.FirstAtOrAfter(startAddress) : 0;
                    }
                    locations.CopyTo(at, Math.Min(locations.Count - at, ChunkEntries), chunk);
                }
            }
            finally
            {
                _lock.ExitReadLock();
            }

            if (oldestLocation is { } oldestAt && TryReadEvent(bytes!, oldestAt, accountId, buffer, out DomainEvent oldest))
                oldestRetained = oldest.Sequence;
            if (chunk.Count == 0) return new EventPage(sequence, events, 0, oldestRetained);
            foreach (EventLocation location in chunk)
            {
                lastLocation = location;
                if (!TryReadEvent(bytes!, location, accountId, buffer, out DomainEvent e)) continue; // truncated away meanwhile
                if (e.Sequence < fromSequence) continue;
                if (events.Count == limit) return new EventPage(sequence, events, e.Sequence, oldestRetained);
                events.Add(e);
            }
        }
    }

    private static bool TryReadEvent(JournalByteReader bytes, EventLocation location, string accountId, Span<byte> buffer, out DomainEvent e)
    {
        long address = location.RecordAddress + JournalByteReader.PayloadOffset + location.PayloadOffset;
        int read = bytes.Read(address, buffer);
        e = default;
        if (read == 0) return false;
        EventCodec.Decode(buffer[..read], out e);
        // Always-on: the index must lead to this account's event, or the page would show someone else's money.
        if (!string.Equals(e.AccountId, accountId, StringComparison.Ordinal))
            throw new InvalidOperationException($"history index points at log address {address} for account '{accountId}' but the event there (sequence {e.Sequence}) is for '{e.AccountId}'");
        return true;
    }

    public void Dispose()
    {
        _bytes?.Dispose();
        _lock.Dispose();
        _snapshotting.Dispose();
    }
}
