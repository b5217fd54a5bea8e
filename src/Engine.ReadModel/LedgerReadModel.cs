using System.Diagnostics;
using System.Globalization;
using Engine.Domain;
using Engine.Journal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using DomainEvent = Engine.Domain.LedgerEvent;

namespace Engine.ReadModel;

/// <summary>
/// The read model (docs/ARCHITECTURE.md "Reading"): its own <see cref="Ledger"/>, fed every durable event with
/// <see cref="Ledger.Apply"/> (the one definition of what an event means), plus per-account indexes, answering the
/// query RPCs. On a leader a <see cref="JournalProjector"/> feeds it from the engine's journal; on a read replica the
/// follower feeds it from the leader's stream through the replica's own copy of the
/// log. Either way it indexes a <see cref="EventJournal"/> it can read back: per-account history is 12 bytes an
/// event in memory (where the event sits, <see cref="EventLocation"/>) and the event itself on disk, so ListEvents
/// pages through months. This file holds the state and the feeder's side; <c>LedgerReadModel.Snapshots.cs</c> starting
/// and snapshots, <c>LedgerReadModel.Queries.cs</c> the queries.
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
public sealed partial class LedgerReadModel : IDisposable
{
    private readonly ReadModelOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<LedgerReadModel> _logger;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    // Held by every writer around its write lock, and by the long readers (the state digest, snapshot writing) instead of
    // the read lock. ReaderWriterLockSlim lets no new reader in while a writer waits, so a digest holding the read lock for
    // a second would make the feeder wait and every query queue behind it. Holding this gate instead keeps the feeder
    // out (the state cannot change) while queries keep taking the read lock: only the read model's lag grows.
    private readonly object _writerGate = new();
    private readonly AsyncSignal _advanced = new();
    private readonly SemaphoreSlim _snapshotting = new(1, 1);
    private readonly List<(DomainEvent Event, int Offset)> _decoded = [];
    private Dictionary<string, AccountIndex> _accounts = new(StringComparer.Ordinal);
    private SequenceIndex _sequenceIndex;
    private Ledger _ledger = new();
    // The collections worklist (credit lifecycle), kept as events apply.
    private DelinquencyIndex _delinquency = new();
    // GetPortfolio's running totals, kept as events apply.
    private PortfolioTotals _portfolio = new();
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
    // How often a writer found the gate held by a digest or snapshot and waited (tests wait on it as a condition).
    private long _writerGateWaits;
    // One state digest at a time (ComputeDigestAsync), and the last one, boxed so it is swapped whole.
    private readonly SemaphoreSlim _digesting = new(1, 1);
    private StateDigest? _lastDigest;

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
        EnterWrite();
        try
        {
            foreach ((DomainEvent e, int offset) in _decoded)
            {
                if (e.Sequence < expected) continue; // already in this state (a block re-sent whole after a resume)
                // Always-on: a gap would make every balance after it silently wrong.
                if (e.Sequence != expected)
                    throw new InvalidOperationException($"read model expected sequence {expected} but the log continued with {e.Sequence}: sequences must be dense");
                if (applied == 0) _sequenceIndex.Observe(e.Sequence, address);
                bool changesAccount = e.Type != EventType.Declined && e.AccountId is { Length: > 0 };
                Account before = default;
                // Keyed lookups: decoding stamped the event's keys, so no id is hashed here.
                bool hadBefore = changesAccount && _ledger.TryGetAccount(e.AccountKey, e.AccountId!, out before);
                if (hadBefore) _portfolio.Add(before, -1);
                _ledger.Apply(e);
                if (changesAccount && _ledger.TryGetAccount(e.AccountKey, e.AccountId!, out Account after))
                {
                    _portfolio.Add(after, +1);
                    _portfolio.Flows.Flow(e, after, hadBefore);
                }
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
            ExitWrite();
        }
        if (applied > 0) _advanced.Set();
        return applied;
    }

    private void Index(in DomainEvent e, EventLocation location)
    {
        AssertWriter();
        if (e.AccountId is not { Length: > 0 } accountId || !_ledger.TryGetAccount(e.AccountKey, accountId, out Account indexed)) return;
        if (indexed.Lifecycle is not null) _delinquency.Observe(indexed, e.TimestampUnixMs);
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
        EnterWrite();
        try
        {
            DropHistoryBefore(address);
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>Every change of state enters here: the writer gate (see <see cref="_writerGate"/>), then the write lock.</summary>
    private void EnterWrite()
    {
        if (!Monitor.TryEnter(_writerGate))
        {
            Interlocked.Increment(ref _writerGateWaits);
            Monitor.Enter(_writerGate);
        }
        _lock.EnterWriteLock();
    }

    private void ExitWrite()
    {
        _lock.ExitWriteLock();
        Monitor.Exit(_writerGate);
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

    public void Dispose()
    {
        _bytes?.Dispose();
        _lock.Dispose();
        _snapshotting.Dispose();
    }
}
