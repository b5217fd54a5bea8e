using Credit.V1;
using Engine.Core;
using Engine.Domain;
using Engine.Journal;
using Engine.Server.Grpc;
using Microsoft.Extensions.Options;
using DomainEvent = Engine.Domain.LedgerEvent;

namespace Engine.Server.ReadModel;

/// <summary>
/// The embedded read model (ARCHITECTURE.md "Reading"): a projector that tails the durable journal, applies
/// every event into its own <see cref="Ledger"/> with <see cref="Ledger.Apply"/> (the one definition of what an
/// event means) plus history indexes, and answers the query RPCs. Queries never touch the engine's decide thread.
/// <para>
/// <b>Concurrency.</b> The projector task is the only writer. It takes a <see cref="ReaderWriterLockSlim"/> write
/// lock once per journal record (a whole group-committed block of events); queries take the read lock, copy what
/// they need into proto messages and leave. Chosen over serving queries through the projector's own channel because
/// queries then run in parallel with each other on the caller's thread, add no hop, and the projector holds the lock
/// only for the in-memory apply of one block (decoding happens before it). Waiting for <c>min_sequence</c> happens
/// outside the lock on an <see cref="AsyncSignal"/>.
/// </para>
/// </summary>
public sealed class EmbeddedReadModel : IDisposable
{
    private readonly ReadModelOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<EmbeddedReadModel> _logger;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly AsyncSignal _advanced = new();
    private readonly Dictionary<string, AccountIndex> _accounts = new(StringComparer.Ordinal);
    // Every retained history event in sequence order, with its account: evicting from the front keeps the
    // total bounded by EventHistoryMax. Entries whose event the per-account cap already dropped are skipped.
    private readonly Queue<(EventHistory History, long Sequence)> _historyOrder = new();
    private readonly SequenceIndex _sequenceIndex;
    private Ledger _ledger = new();
    private long _appliedSequence;
    private EventJournal? _journal;
    private CancellationTokenSource? _stopping;
    private Task? _projector;
    private volatile Exception? _fault;

    public EmbeddedReadModel(IOptions<ReadModelOptions> options, TimeProvider clock, ILogger<EmbeddedReadModel> logger)
    {
        _options = options.Value;
        _options.Validate();
        _clock = clock;
        _logger = logger;
        _sequenceIndex = new SequenceIndex(_options.SequenceIndexStride);
    }

    /// <summary>The last sequence applied (0 before the first event).</summary>
    public long AppliedSequence => Volatile.Read(ref _appliedSequence);

    /// <summary>Set when the projector stopped on an error; queries then fail with UNAVAILABLE.</summary>
    public Exception? Fault => _fault;

    /// <summary>Starts projecting <paramref name="journal"/> from its beginning.</summary>
    public void Start(EventJournal journal, LedgerOptions ledgerOptions)
    {
        if (_projector is not null) throw new InvalidOperationException("the read model is already running");
        // Same retention of closed authorizations as the engine, so ListAuthorizations sees what Capture sees; but
        // no idempotency window: the read model never decides, so remembering request ids would only cost memory.
        _ledger = new Ledger(ledgerOptions with { IdempotencyMinEntries = 0, IdempotencyMinAgeMs = 0, IdempotencyMaxEntries = 1 });
        _journal = journal;
        _stopping = new CancellationTokenSource();
        _projector = Task.Run(() => ProjectAsync(journal, _stopping.Token));
    }

    public async Task StopAsync()
    {
        if (_projector is null || _stopping is null) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _projector.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ProjectAsync(EventJournal journal, CancellationToken ct)
    {
        var decoded = new EventCollector();
        try
        {
            using JournalReader reader = journal.OpenReader(journal.BeginAddress);
            while (!ct.IsCancellationRequested)
            {
                while (reader.TryReadNext(out ReadOnlySpan<byte> payload, out long address, out _))
                {
                    decoded.Events.Clear();
                    EventBlock.Decode(payload, decoded);
                    if (decoded.Events.Count > 0) ApplyBlock(decoded.Events, address);
                    if (ct.IsCancellationRequested) return;
                }
                if (reader.EndState.IsTornTail)
                    throw new InvalidOperationException($"the journal ends in a torn record at address {reader.EndState.Address} while the engine runs");
                await journal.WaitForCommitAsync(reader.NextAddress + 1, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _fault = e;
            _logger.LogCritical(e, "read model projector stopped at sequence {Sequence}; queries answer UNAVAILABLE", AppliedSequence);
            _advanced.Set();
        }
    }

    private void ApplyBlock(List<DomainEvent> events, long address)
    {
        _lock.EnterWriteLock();
        try
        {
            _sequenceIndex.Observe(events[0].Sequence, address);
            foreach (DomainEvent e in events)
            {
                _ledger.Apply(e);
                Index(e);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
        // Published after the state it describes: a query that sees this sequence sees its effects.
        Volatile.Write(ref _appliedSequence, events[^1].Sequence);
        _advanced.Set();
    }

    private void Index(in DomainEvent e)
    {
        if (e.AccountId.Length == 0 || !_ledger.TryGetAccount(e.AccountId, out _)) return;
        if (!_accounts.TryGetValue(e.AccountId, out AccountIndex? account))
        {
            account = new AccountIndex(new EventHistory(_options.AccountEventsMax));
            _accounts.Add(e.AccountId, account);
        }
        account.Events.Append(e);
        _historyOrder.Enqueue((account.Events, e.Sequence));
        while (_historyOrder.Count > _options.EventHistoryMax)
        {
            (EventHistory history, long sequence) = _historyOrder.Dequeue();
            if (history.Count > 0 && history.OldestSequence == sequence) history.RemoveFirst();
        }
        if (e.Type == Engine.Domain.EventType.Authorized && e.AuthorizationId is { } authorizationId
            && _ledger.TryGetAuthorization(authorizationId, out Authorization? authorization))
        {
            account.AddAuthorization(authorization, _ledger);
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
    internal long StartAddressFor(long sequence, EventJournal journal)
    {
        _lock.EnterReadLock();
        try
        {
            return _sequenceIndex.AddressAtOrBefore(sequence) ?? journal.BeginAddress;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public GetAccountResponse? GetAccount(string accountId)
    {
        _lock.EnterReadLock();
        try
        {
            if (!_ledger.TryGetAccount(accountId, out Engine.Domain.Account account)) return null;
            long now = Math.Max(_clock.GetUtcNow().ToUnixTimeMilliseconds(), _ledger.LastTimestampUnixMs);
            long temporary = account.ActiveTemporaryLimit(now);
            var proto = new Credit.V1.Account
            {
                AccountId = account.Id,
                CustomerId = account.CustomerId,
                Currency = CurrencyCode.Unpack(account.CurrencyCode),
                Status = (Credit.V1.AccountStatus)((int)account.Status + 1),
                CreditLimit = account.CreditLimitMinor,
                TemporaryLimit = account.TemporaryLimitMinor,
                TemporaryLimitExpiresAtUnixMs = account.TemporaryLimitExpiresAtUnixMs,
                TemporaryLimitActive = temporary > 0,
                Held = account.HeldMinor,
                Posted = account.PostedMinor,
                Available = account.Available(now),
                OvercapturePercent = account.OvercapturePercent,
                OpenAuthorizationCount = account.OpenAuthorizations,
            };
            if (account.Controls is { } controls) proto.Controls = EventMapping.ToProto(controls.Spec);
            return new GetAccountResponse { Account = proto, Sequence = _ledger.LastSequence };
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Null when the account does not exist.</summary>
    public ListAuthorizationsResponse? ListAuthorizations(string accountId, bool openOnly, long afterCreatedSequence, int pageSize)
    {
        _lock.EnterReadLock();
        try
        {
            if (!_ledger.TryGetAccount(accountId, out _)) return null;
            var response = new ListAuthorizationsResponse { Sequence = _ledger.LastSequence };
            if (!_accounts.TryGetValue(accountId, out AccountIndex? index)) return response;
            long lastReturned = 0;
            bool more = false;
            foreach (Authorization authorization in index.AuthorizationsAfter(afterCreatedSequence, _ledger))
            {
                if (openOnly && authorization.State != Engine.Domain.AuthorizationState.Open) continue;
                if (response.Authorizations.Count == pageSize) { more = true; break; }
                response.Authorizations.Add(new AuthorizationView
                {
                    AuthorizationId = authorization.Id,
                    AccountId = accountId,
                    State = (Credit.V1.AuthorizationState)((int)authorization.State + 1),
                    AuthorizedAmount = authorization.AuthorizedMinor,
                    Held = authorization.HeldMinor,
                    Captured = authorization.CapturedMinor,
                    Refunded = authorization.RefundedMinor,
                    ExpiresAtUnixMs = authorization.ExpiresAtUnixMs,
                    ClosedAtUnixMs = authorization.State == Engine.Domain.AuthorizationState.Open ? 0 : authorization.ClosedAtUnixMs,
                    CreatedSequence = authorization.CreatedSequence,
                });
                lastReturned = authorization.CreatedSequence;
            }
            if (more) response.NextPageToken = lastReturned.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return response;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Null when the account does not exist.</summary>
    public ListEventsResponse? ListEvents(string accountId, long fromSequence, int limit)
    {
        _lock.EnterReadLock();
        try
        {
            if (!_ledger.TryGetAccount(accountId, out _)) return null;
            var response = new ListEventsResponse { Sequence = _ledger.LastSequence };
            if (!_accounts.TryGetValue(accountId, out AccountIndex? index)) return response;
            EventHistory history = index.Events;
            response.OldestRetainedSequence = history.OldestSequence;
            int at = history.IndexOfFirstAtOrAfter(fromSequence);
            int end = Math.Min(history.Count, at + limit);
            for (int i = at; i < end; i++) response.Events.Add(EventMapping.ToProto(history.At(i)));
            if (end < history.Count) response.NextFromSequence = history.At(end).Sequence;
            return response;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public void Dispose() => _lock.Dispose();

    private sealed class EventCollector : IEventSink
    {
        public readonly List<DomainEvent> Events = [];

        public void OnEvent(in DomainEvent ledgerEvent) => Events.Add(ledgerEvent);
    }
}
