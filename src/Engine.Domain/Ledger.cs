namespace Engine.Domain;

/// <summary>
/// The in-memory credit-limit ledger: accounts, authorizations, the expiry index and the idempotency
/// table. Owned by one thread (the decide thread, or a replayer); not thread-safe by design.
/// <para>
/// <see cref="Execute"/> is the state machine: idempotency check, then <c>Decide</c> (reads state, builds
/// the outcome event, changes nothing), then <see cref="Apply"/> (the only code that mutates state). Recovery and
/// read models call <see cref="Apply"/> with events from the log, so there is one definition of what an
/// event means.
/// </para>
/// </summary>
public sealed partial class Ledger
{
    private Account[] _accounts = new Account[1024];
    private int _accountCount;
    // Account key (Fingerprints.IdKey of its id) → index in _accounts. Bounded only by KeyTable.CapacityLimit, so a log
    // with more accounts than this ledger's AccountsMax still replays; Decide refuses beyond AccountsMax.
    private readonly KeyTable _accountIndex;
    private readonly AuthorizationStore _authorizations;
    private readonly ExpiryHeap _expiryHeap;
    // Closed / voided / expired authorizations in the order they left Open (engine time is monotonic,
    // so this is also ClosedAtUnixMs order): retention is a FIFO.
    private readonly ChunkedQueue<int> _retired = new();
    private readonly IdempotencyTable _idempotency;

    /// <param name="options">Limits; defaults when null.</param>
    /// <param name="idempotencySpill">
    /// Where request ids beyond <see cref="LedgerOptions.IdempotencyMaxEntries"/> go while still inside the window
    /// (an empty store; the ledger owns its contents, the caller disposes it). Null: they are dropped.
    /// </param>
    public Ledger(LedgerOptions? options = null, IIdempotencySpillStore? idempotencySpill = null)
    {
        Options = options ?? new LedgerOptions();
        // Capacity hints: an index that grows rehashes every entry at once (a pause of hundreds of
        // milliseconds at millions of entries), so a sized deployment sets them. The memory is reserved
        // lazily: pages become resident as entries arrive.
        // The hash indexes are made resident below (in the background when the tables are large), not by KeyTable.
        const bool indexesResidentNow = false;
        _accountIndex = KeyTable.Create(Options.ExpectedAccounts, KeyTable.CapacityLimit / 4 * 3, indexesResidentNow);
        _authorizations = new AuthorizationStore(Options.ExpectedAuthorizations, Options.AuthorizationsMax, indexesResidentNow);
        _expiryHeap = new ExpiryHeap(_authorizations, Math.Min(Options.ExpectedAuthorizations, Options.AuthorizationsMax));
        _idempotency = new IdempotencyTable(Options, idempotencySpill, indexesResidentNow);
        // Hash indexes first (they are probed at random from the first insert), then the tables that fill in order.
        var regions = new List<PagePrefault.Region>();
        _accountIndex.AddPrefaultRegions(regions);
        _authorizations.AddPrefaultRegions(regions);
        _expiryHeap.AddPrefaultRegions(regions);
        _idempotency.AddPrefaultRegions(regions);
        Prefaulting = PagePrefault.Start(regions);
        if (Prefaulting is null)
        {
            // Small tables: not worth a thread, but the indexes are still made resident before the first probe.
            var indexes = new List<PagePrefault.Region>();
            _accountIndex.AddPrefaultRegions(indexes);
            _authorizations.AddIndexPrefaultRegion(indexes);
            _idempotency.AddIndexPrefaultRegion(indexes);
            PagePrefault.PopulateNow(indexes);
        }
    }

    /// <summary>
    /// The background pass that makes the tables sized from the <c>Expected*</c> hints resident (<see cref="PagePrefault"/>),
    /// giving the bytes it populated; null when the tables are too small to bother or the OS is not Linux.
    /// </summary>
    internal Task<long>? Prefaulting { get; }

    public LedgerOptions Options { get; }
    /// <summary>Sequence of the last applied event (0 before the first).</summary>
    public long LastSequence { get; private set; }
    /// <summary>Engine time of the last applied event; engine time never goes backwards.</summary>
    public long LastTimestampUnixMs { get; private set; }
    public int AccountCount => _accountCount;
    public int OpenAuthorizationCount => _expiryHeap.Count;
    public int AuthorizationCount => _authorizations.Count;
    /// <summary>Request ids remembered (memory and spill store).</summary>
    public long IdempotencyEntryCount => _idempotency.Count;
    /// <summary>Request ids remembered in the spill store.</summary>
    public long IdempotencySpilledCount => _idempotency.SpilledCount;
    /// <summary>Engine time of the oldest request id still answerable (0 when none): the start of the effective window.</summary>
    public long IdempotencyOldestTimestampUnixMs => _idempotency.OldestTimestampUnixMs;
    /// <summary>Request ids dropped inside the window since this ledger was created (memory bound reached, no spill store).</summary>
    public long IdempotencyEvictedInsideWindow => _idempotency.EvictedInsideWindow;

    /// <summary>How often the in-memory indexes (accounts, authorizations, request ids) doubled since creation: 0 when the Expected* hints were big enough.</summary>
    public int IndexGrowths => _accountIndex.Growths + _authorizations.IndexGrowths + _idempotency.IndexGrowths;

    /// <summary>
    /// Closed authorizations this ledger has forgotten (past retention) since it was created: an index that keeps
    /// authorization ids can skip looking for forgotten ones while this has not moved.
    /// </summary>
    public long AuthorizationsForgotten { get; private set; }

    /// <summary>
    /// <see cref="TryGetAccount(string, out Account)"/> for a caller that already has the id's key (a decoded event's
    /// <see cref="LedgerEvent.AccountKey"/>): no hashing.
    /// </summary>
    public bool TryGetAccount(UInt128 accountKey, string accountId, out Account account)
    {
        if (TryFindAccount(accountKey, out int index))
        {
            account = _accounts[index];
            if (account.Id != accountId) throw new LedgerInvariantException($"account ids '{accountId}' and '{account.Id}' have the same 128-bit key");
            return true;
        }
        account = default;
        return false;
    }

    public bool TryGetAccount(string accountId, out Account account)
    {
        if (TryFindAccount(Fingerprints.IdKey(accountId), out int index))
        {
            account = _accounts[index];
            // Off the decide thread and cheap: a 128-bit key collision would be caught, not served.
            if (account.Id != accountId) throw new LedgerInvariantException($"account ids '{accountId}' and '{account.Id}' have the same 128-bit key");
            return true;
        }
        account = default;
        return false;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool TryFindAccount(UInt128 accountKey, out int index)
    {
        // Key 0 is "no id" (Fingerprints.IdKey of null or empty).
        if (accountKey != UInt128.Zero && _accountIndex.TryGetValue(accountKey, out long found))
        {
            index = (int)found;
            return true;
        }
        index = -1;
        return false;
    }

    /// <summary>
    /// A copy of the authorization as it is now (see <see cref="Authorization"/>). Like every read of the ledger it
    /// writes nothing, so concurrent readers are safe while no one applies events.
    /// </summary>
    public bool TryGetAuthorization(string authorizationId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Authorization? authorization)
    {
        authorization = _authorizations.TryFind(authorizationId, out int slot) ? _authorizations.CopyOf(slot) : null;
        return authorization is not null;
    }

    /// <summary>
    /// True when the ledger still holds the authorization <paramref name="authorizationId"/> created at
    /// <paramref name="createdSequence"/> (an id can come back after retention forgot an older one). Allocates nothing:
    /// for indexes that keep ids and copy an authorization out only when asked.
    /// </summary>
    public bool HoldsAuthorization(string authorizationId, long createdSequence) =>
        _authorizations.TryFind(authorizationId, out int slot) && _authorizations.At(slot).CreatedSequence == createdSequence;

    /// <summary>False when the account index cannot take one more account (see <see cref="KeyTable.HasRoom"/>).</summary>
    private bool AccountIndexHasRoom => _accountIndex.HasRoom;

    /// <summary>All accounts in creation order (index order).</summary>
    public ReadOnlySpan<Account> Accounts => _accounts.AsSpan(0, _accountCount);

    /// <summary>Copies of every known authorization, made as the enumeration reaches them (for tests and tools, not the hot path).</summary>
    public IEnumerable<Authorization> Authorizations => _authorizations.Slots.Select(_authorizations.CopyOf);

    /// <summary>
    /// Runs one command at engine time <paramref name="nowUnixMs"/> (raised to the last event's time if the
    /// clock went back). Events go to <paramref name="sink"/> after they are applied. Returns the reply;
    /// for <see cref="CommandType.Tick"/>, a reply whose Sequence is the last event's.
    /// The command must have passed <see cref="CommandValidator"/>.
    /// </summary>
    public Reply Execute(in Command command, long nowUnixMs, IEventSink sink)
    {
        long now = Math.Max(nowUnixMs + ClockOffsetMs, LastTimestampUnixMs);
        if (command.Type == CommandType.Tick)
        {
            RunLifecycle(now, sink);
            ExpireDue(now, sink);
            return new Reply { Status = Status.Ok, Sequence = LastSequence };
        }

        // The engine's producers stamp keys on their own thread; a direct caller (tests, tools) gets them computed here.
        if (!command.KeysStamped) return ExecuteStamped(command, nowUnixMs, sink); // the raw clock: Execute adds the offset once
        AssertKeysMatch(command);
        if (_idempotency.TryGet(command.RequestKey, out IdempotencyRecord previous))
        {
            if (previous.PayloadFingerprint == command.PayloadFingerprint) return previous.ToReply(replayed: true);
            return ReusedReply(command, now);
        }

        LedgerEvent ledgerEvent = Decide(command, now);
        Apply(ledgerEvent, fromLog: false);
        sink.OnEvent(ledgerEvent);
        // Test clocks: what falls due in the skipped time happens now, in order, before any later command sees the new time.
        if (ledgerEvent.Type == EventType.ClockAdvanced) PlayAdvancedClock(now + ledgerEvent.AmountMinor, sink);
        return ledgerEvent.ToReply();
    }

    private Reply ExecuteStamped(Command command, long now, IEventSink sink)
    {
        Fingerprints.StampKeys(ref command);
        return Execute(command, now, sink);
    }

    /// <summary>Debug builds re-derive the producer's keys: a stale key (a command changed after stamping) is a bug.</summary>
    [System.Diagnostics.Conditional("DEBUG")]
    private static void AssertKeysMatch(in Command command)
    {
        Command recomputed = command;
        Fingerprints.StampKeys(ref recomputed);
        System.Diagnostics.Debug.Assert(recomputed.RequestKey == command.RequestKey && recomputed.AccountKey == command.AccountKey
            && recomputed.AuthorizationKey == command.AuthorizationKey && recomputed.PayloadFingerprint == command.PayloadFingerprint,
            "the command's keys do not match its ids: it was changed after Fingerprints.StampKeys");
    }

    /// <summary>
    /// The answer to a known request id with a different payload: nothing is journaled or changed; the
    /// balances are those of the account the new payload names, if any, and the sequence is the last one.
    /// </summary>
    private Reply ReusedReply(in Command command, long now)
    {
        var reply = new Reply { Status = Status.RequestIdReused, Sequence = LastSequence };
        int index = -1;
        if (TryFindAccount(command.AccountKey, out int byAccount)) index = byAccount;
        else if (_authorizations.TryFind(command.AuthorizationKey, out int slot)) index = _authorizations.At(slot).AccountIndex;
        if (index >= 0)
        {
            ref readonly Account account = ref _accounts[index];
            reply.AvailableMinor = account.Available(now);
            reply.HeldMinor = account.HeldMinor;
            reply.PostedMinor = account.PostedMinor;
        }
        return reply;
    }

    /// <summary>Expires due holds, oldest expiry first, at most <see cref="LedgerOptions.ExpirationsPerTickMax"/>.</summary>
    /// <returns>How many holds expired.</returns>
    public int ExpireDue(long nowUnixMs, IEventSink sink)
    {
        long now = Math.Max(nowUnixMs, LastTimestampUnixMs);
        int expired = 0;
        while (expired < Options.ExpirationsPerTickMax && _expiryHeap.TryPeekMin(out int slot) && _authorizations.At(slot).ExpiresAtUnixMs <= now)
        {
            LedgerEvent ledgerEvent = DecideExpiry(_authorizations.At(slot), now);
            Apply(ledgerEvent);
            sink.OnEvent(ledgerEvent);
            expired++;
        }
        return expired;
    }

    /// <summary>
    /// Full invariant check, O(accounts + authorizations): each account's held equals the sum of its open
    /// holds, its open-authorization count matches, every number is representable, and each authorization's counters
    /// are in range (refunded ≤ captured, reversed ≤ authorized). Run after recovery
    /// and by tests; throws <see cref="LedgerInvariantException"/>.
    /// </summary>
    public void CheckInvariants()
    {
        var heldByAccount = new long[_accountCount];
        var openByAccount = new int[_accountCount];
        int open = 0;
        foreach (int slot in _authorizations.Slots)
        {
            ref readonly AuthorizationRecord authorization = ref _authorizations.At(slot);
            if (authorization.CapturedMinor < 0 || authorization.RefundedMinor < 0 || authorization.RefundedMinor > authorization.CapturedMinor)
                throw new LedgerInvariantException($"authorization {authorization.Id}: captured {authorization.CapturedMinor}, refunded {authorization.RefundedMinor}");
            if (authorization.ReversedMinor < 0 || authorization.ReversedMinor > authorization.AuthorizedMinor)
                throw new LedgerInvariantException($"authorization {authorization.Id}: reversed {authorization.ReversedMinor} of {authorization.AuthorizedMinor} authorized");
            if (authorization.State != AuthorizationState.Open)
            {
                if (authorization.HeldMinor != 0) throw new LedgerInvariantException($"authorization {authorization.Id} is {authorization.State} but holds {authorization.HeldMinor}");
                continue;
            }
            open++;
            if (authorization.HeldMinor < 0) throw new LedgerInvariantException($"authorization {authorization.Id} holds a negative amount");
            heldByAccount[authorization.AccountIndex] += authorization.HeldMinor;
            openByAccount[authorization.AccountIndex]++;
        }
        if (open != _expiryHeap.Count) throw new LedgerInvariantException($"{open} open authorizations but {_expiryHeap.Count} in the expiry index");
        for (int i = 0; i < _accountCount; i++)
        {
            ref readonly Account account = ref _accounts[i];
            if (account.HeldMinor != heldByAccount[i])
                throw new LedgerInvariantException($"account {account.Id}: held {account.HeldMinor} != sum of open holds {heldByAccount[i]}");
            if (account.OpenAuthorizations != openByAccount[i])
                throw new LedgerInvariantException($"account {account.Id}: {account.OpenAuthorizations} open authorizations recorded, {openByAccount[i]} found");
            if (!Balances.Representable(account.CreditLimitMinor, account.TemporaryLimitMinor, account.HeldMinor, account.PostedMinor))
                throw new LedgerInvariantException($"account {account.Id}: balances outside int64");
        }
        CheckLifecycleInvariants();
    }

    private ref Account AccountAt(int index) => ref _accounts[index];

    private int AddAccount(in Account account)
    {
        if (_accountCount == _accounts.Length) Array.Resize(ref _accounts, _accounts.Length * 2);
        int index = _accountCount++;
        _accounts[index] = account;
        System.Diagnostics.Debug.Assert(account.Key == Fingerprints.IdKey(account.Id), "an account's key is the IdKey of its id");
        if (!_accountIndex.TryAdd(account.Key, index))
        {
            _accountCount--;
            throw new LedgerInvariantException($"account {account.Id} opened twice");
        }
        return index;
    }
}
