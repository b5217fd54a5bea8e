using System.Diagnostics;
using System.Globalization;
using Engine.Domain;
using Engine.Journal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using DomainEvent = Engine.Domain.LedgerEvent;

namespace Engine.ReadModel;

/// <summary>The queries: each copies what it needs under the read lock and returns a plain view; history is read from disk outside it.</summary>
public sealed partial class LedgerReadModel
{
    /// <summary>
    /// A 128-bit digest of the read model's ledger, hex; equal on every server at the same applied sequence. It covers
    /// the whole state (a pass over every account, authorization and remembered id), so it runs under the writer gate,
    /// not the read lock: queries go on while it runs and only the feeder waits (the read model's lag grows by the
    /// digest's duration). One digest runs at a time; callers waiting behind it get its result when the state has not
    /// moved since, and every result is kept for the next caller at the same sequence.
    /// </summary>
    public async Task<(long Sequence, string Digest)> ComputeDigestAsync(CancellationToken cancellationToken)
    {
        await _digesting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_lastDigest is { } cached && cached.Sequence == AppliedSequence) return (cached.Sequence, cached.Digest);
            StateDigest digest;
            lock (_writerGate)
            {
                DigestProbe?.Invoke();
                digest = new StateDigest(_ledger.LastSequence, _ledger.ComputeDigest().ToString("x32", CultureInfo.InvariantCulture));
            }
            _lastDigest = digest; // read and written only inside the semaphore
            return (digest.Sequence, digest.Digest);
        }
        finally
        {
            _digesting.Release();
        }
    }

    private sealed record StateDigest(long Sequence, string Digest);

    /// <summary>Tests only: runs inside the digest while it holds the writer gate, to hold a digest "in progress".</summary>
    internal Action? DigestProbe { get; set; }

    /// <summary>Tests only: how often the feeder found the writer gate held (by a digest or a snapshot) and waited.</summary>
    internal long WriterGateWaits => Interlocked.Read(ref _writerGateWaits);

    /// <summary>The account now (temporary limit and available at the later of wall-clock and engine time); null when it does not exist.</summary>
    /// <summary>
    /// The collections worklist: accounts in <paramref name="stage"/> (WATCH or worse), largest past-due first, from the
    /// incrementally kept index. Throws <see cref="ArgumentException"/> for a token not from a previous page.
    /// </summary>
    public DelinquentAccountPage ListDelinquentAccounts(DelinquencyStage stage, string? pageToken, int pageSize)
    {
        _lock.EnterReadLock();
        try
        {
            List<string> ids = _delinquency.Page(stage, pageToken, pageSize, out string? next);
            long now = EngineNowUnixMs();
            int today = EngineDays.DayOf(now);
            var rows = new List<DelinquentAccountView>(ids.Count);
            foreach (string id in ids)
            {
                _ledger.TryGetAccount(id, out Account account);
                AccountLifecycle lifecycle = account.Lifecycle!;
                rows.Add(new DelinquentAccountView(id, account.CustomerId, lifecycle.Stage, lifecycle.PastDueMinor(today), lifecycle.DaysPastDue(today), lifecycle.DepositMinor));
            }
            return new DelinquentAccountPage(_ledger.LastSequence, rows, next);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>
    /// The worklist of one aging bucket (1 = 1–30 … 5 = 180+ days past due, at the query's engine time), largest past-due
    /// first. Bucket membership changes with time alone, so a page costs the accounts in the bucket (found by range in
    /// the oldest-due index, then ranked), not the whole ledger.
    /// </summary>
    public DelinquentAccountPage ListAccountsInAgingBucket(int bucket, string? pageToken, int pageSize)
    {
        _lock.EnterReadLock();
        try
        {
            int today = EngineDays.DayOf(EngineNowUnixMs());
            var rows = new List<DelinquentAccountView>();
            foreach (string id in _delinquency.InBucket(bucket, today))
            {
                _ledger.TryGetAccount(id, out Account account);
                AccountLifecycle lifecycle = account.Lifecycle!;
                rows.Add(new DelinquentAccountView(id, account.CustomerId, lifecycle.Stage, lifecycle.PastDueMinor(today), lifecycle.DaysPastDue(today), lifecycle.DepositMinor));
            }
            List<DelinquentAccountView> page = DelinquencyIndex.PageOf(rows, r => (r.PastDueMinor, r.AccountId), pageToken, pageSize, out string? next);
            return new DelinquentAccountPage(_ledger.LastSequence, page, next);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Portfolio totals (kept incrementally) and the 10 accounts with the largest past-due amount.</summary>
    public PortfolioView GetPortfolio()
    {
        _lock.EnterReadLock();
        try
        {
            int day = EngineDays.DayOf(EngineNowUnixMs());
            var largest = new List<DelinquentAccountView>();
            foreach (DelinquencyStage stage in new[] { DelinquencyStage.Watch, DelinquencyStage.FrozenDelinquent, DelinquencyStage.ChargedOff })
            {
                foreach (string id in _delinquency.Page(stage, null, 10, out _))
                {
                    _ledger.TryGetAccount(id, out Account account);
                    AccountLifecycle lifecycle = account.Lifecycle!;
                    largest.Add(new DelinquentAccountView(id, account.CustomerId, lifecycle.Stage, lifecycle.PastDueMinor(day), lifecycle.DaysPastDue(day), lifecycle.DepositMinor));
                }
            }
            largest.Sort((x, y) => y.PastDueMinor != x.PastDueMinor ? y.PastDueMinor.CompareTo(x.PastDueMinor) : string.CompareOrdinal(x.AccountId, y.AccountId));
            if (largest.Count > 10) largest.RemoveRange(10, largest.Count - 10);
            return _portfolio.View(_ledger.LastSequence, largest, day);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public AccountView? GetAccount(string accountId)
    {
        _lock.EnterReadLock();
        try
        {
            if (!_ledger.TryGetAccount(accountId, out Account account)) return null;
            // Engine time with the test-clock offset, as the engine decides with it.
            long now = EngineNowUnixMs();
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
                Sequence: _ledger.LastSequence,
                Lifecycle: LifecycleView.Of(account, _ledger.Options.DelinquencyPolicy, now));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Most authorizations one page looks at under the read lock (see <see cref="ListAuthorizations"/>).</summary>
    public const int AuthorizationsScannedPerPageMax = 10_000;

    /// <summary>
    /// Null when the account does not exist. The work per call is bounded: at most <paramref name="pageSize"/> are
    /// returned and at most <see cref="AuthorizationsScannedPerPageMax"/> looked at (an OPEN page of an account with a
    /// million closed authorizations would otherwise scan them all under the read lock). A page that stopped at that
    /// bound may be short, even empty, and still carries a next-page token: the caller pages on.
    /// </summary>
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
            int scanned = 0;
            foreach (Authorization authorization in index.AuthorizationsAfter(afterCreatedSequence, _ledger))
            {
                if (scanned == AuthorizationsScannedPerPageMax) { more = true; break; }
                scanned++;
                if (openOnly && authorization.State != AuthorizationState.Open)
                {
                    // A short page resumes after what it looked at; a full one after what it returned.
                    if (authorizations.Count < pageSize) lastReturned = authorization.CreatedSequence;
                    continue;
                }
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

    /// <summary>Engine time as queries see it: the clock plus any test-clock offset, never before the last applied event. Call under the lock.</summary>
    private long EngineNowUnixMs() => Math.Max(_clock.GetUtcNow().ToUnixTimeMilliseconds() + _ledger.ClockOffsetMs, _ledger.LastTimestampUnixMs);

    /// <summary>
    /// A page of an account's events from the log, null when the account does not exist. Locations are copied under
    /// the lock a chunk at a time; the events are read from disk outside it, so a long page never holds up the feeder.
    /// </summary>
    /// <param name="types">Only events of these types (<see cref="EventTypeFilter"/>); <see cref="EventTypeFilter.All"/> for every event.</param>
    public EventPage? ListEvents(string accountId, long fromSequence, int limit, EventTypeFilter types = default)
    {
        int scannedMax = _options.ScannedEventsPerPageMax, scanned = 0;
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
                // Bounded work: a page that read its share of the log ends here; the caller goes on from the next event.
                if (scanned++ == scannedMax) return new EventPage(sequence, events, e.Sequence, oldestRetained);
                if (types.Includes(e.Type)) events.Add(e);
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
}
