namespace Engine.Domain.Tests.Model;

/// <summary>
/// A deliberately simple, independent reference implementation of the ledger rules (docs/SPEC.md, the credit lifecycle of
/// docs/LIFECYCLE.md, plus the semantics README chooses where they are silent), for model-based testing. Plain dictionaries
/// and lists, <see cref="Int128"/> money so nothing can wrap, one method per command that checks in the documented order
/// and then mutates. Engine time is simulated by scanning every account for its next date of interest (no timer index).
/// It shares only the command, status, event-type and lifecycle enum vocabulary with the engine — none of its code.
/// </summary>
internal sealed partial class ReferenceModel
{
    public enum AccountState { Active, Frozen, Closed }

    public enum HoldState { Open, Closed, Voided, Expired }

    public sealed class ModelControls
    {
        public long Cap;
        public int VelocityCount;
        public long VelocityAmount;
        public int WindowSeconds;
        public HashSet<int> Blocked = [];
    }

    public sealed class ModelAccount
    {
        public required string Id;
        public required string Currency;
        public Int128 Limit;
        public Int128 Temporary;
        public long TemporaryExpiresAt;
        public Int128 Held;
        public Int128 Posted;
        public AccountState State;
        public int Overcapture;
        public ModelControls? Controls;
        /// <summary>Approved authorizations and increments since the controls were installed: (engine time, count, amount).</summary>
        public List<(long At, int Count, Int128 Amount)> Spent = [];
        public int OpenHolds;
        /// <summary>Creation order: ties between accounts due at the same moment resolve in this order.</summary>
        public int Ordinal;
        public ModelLifecycle Life = new();
    }

    public sealed class ModelAuthorization
    {
        public required string Id;
        public required string AccountId;
        public Int128 Authorized;
        public Int128 Held;
        public Int128 Captured;
        public Int128 Refunded;
        /// <summary>Released by voids: what may be captured is authorized − reversed (+ over-capture).</summary>
        public Int128 Reversed;
        public long ExpiresAt;
        public long CreatedSequence;
        public HoldState State;
    }

    public readonly record struct ModelReply(Status Status, Int128 Available, Int128 Held, Int128 Posted, long Sequence, bool Replayed);

    public readonly record struct ModelEvent(long Sequence, EventType Type, Status Status, CommandType Command, string AccountId, string? AuthorizationId,
        Int128 Available, Int128 Held, Int128 Posted, long Timestamp, Int128 Amount, ModelDetail? Detail);

    /// <param name="Policy">The engine-wide delinquency thresholds (remind, watch, freeze, charge-off days).</param>
    /// <param name="LifecycleEventsPerTickMax">Statements, reminders and stage changes one tick emits at most.</param>
    public sealed record Limits(int DefaultHoldExpirySeconds, int MaxOpenPerAccount, int AccountsMax, int ExpirationsPerTickMax,
        ModelPolicy Policy, int LifecycleEventsPerTickMax);

    private readonly Limits _limits;
    private readonly Dictionary<string, (Command Payload, ModelReply Reply)> _remembered = new(StringComparer.Ordinal);
    private readonly List<ModelAuthorization> _open = [];
    private readonly List<ModelAccount> _accountsInOrder = [];
    private List<ModelEvent> _events = [];

    public ReferenceModel(Limits limits) => _limits = limits;

    public Dictionary<string, ModelAccount> Accounts { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, ModelAuthorization> Authorizations { get; } = new(StringComparer.Ordinal);
    public long Sequence { get; private set; }
    /// <summary>Engine time: the time of the last event; never goes backwards.</summary>
    public long EngineTime { get; private set; }
    /// <summary>What AdvanceClock has added to the clock, in total (test clocks).</summary>
    public long ClockOffsetMs { get; private set; }

    public static Int128 ActiveTemporary(ModelAccount a, long now) => a.Temporary > 0 && now < a.TemporaryExpiresAt ? a.Temporary : 0;

    public static Int128 Available(ModelAccount a, long now) => a.Limit + ActiveTemporary(a, now) - a.Held - a.Posted;

    private static bool Fits(Int128 value) => value >= long.MinValue && value <= long.MaxValue;

    /// <summary>Every derived number stays in int64, with or without the temporary limit (it may lapse at any moment).</summary>
    private static bool Representable(Int128 limit, Int128 temporary, Int128 held, Int128 posted) =>
        // Holds can be released and temporary limits can lapse without another checked command, so every
        // combination of (with / without holds) × (with / without temporary limit) must stay in int64.
        held >= 0 && Fits(held) && Fits(posted)
        && Fits(limit - held - posted) && Fits(limit + temporary - held - posted)
        && Fits(limit - posted) && Fits(limit + temporary - posted);

    public ModelReply Execute(in Command c, long clock, List<ModelEvent> events)
    {
        _events = events;
        long now = Math.Max(clock + ClockOffsetMs, EngineTime);
        if (c.Type == CommandType.Tick)
        {
            PlayLifecycle(now, _limits.LifecycleEventsPerTickMax);
            Expire(now);
            return new ModelReply(Status.Ok, 0, 0, 0, Sequence, false);
        }
        if (_remembered.TryGetValue(c.RequestId, out var prior))
        {
            if (SamePayload(prior.Payload, c)) return prior.Reply with { Replayed = true };
            ModelAccount? named = c.AccountId is not null && Accounts.TryGetValue(c.AccountId, out var byId) ? byId
                : c.AuthorizationId is not null && Authorizations.TryGetValue(c.AuthorizationId, out var z) ? Accounts[z.AccountId] : null;
            return named is null
                ? new ModelReply(Status.RequestIdReused, 0, 0, 0, Sequence, false)
                : new ModelReply(Status.RequestIdReused, Available(named, now), named.Held, named.Posted, Sequence, false);
        }
        ModelReply reply = c.Type switch
        {
            CommandType.OpenAccount => OpenAccount(c, now),
            CommandType.ChangeLimit => ChangeLimit(c, now),
            CommandType.SetTemporaryLimit => SetTemporaryLimit(c, now),
            CommandType.Freeze => SetState(c, now, AccountState.Frozen, EventType.AccountFrozen),
            CommandType.Unfreeze => SetState(c, now, AccountState.Active, EventType.AccountUnfrozen),
            CommandType.CloseAccount => CloseAccount(c, now),
            CommandType.SetSpendingControls => SetControls(c, now),
            CommandType.Authorize => Authorize(c, now),
            CommandType.IncrementAuthorization => Increment(c, now),
            CommandType.Capture => Capture(c, now),
            CommandType.Void => Void(c, now),
            CommandType.ForcePost => Post(c, now, +1, EventType.ForcePosted),
            CommandType.Refund => Refund(c, now),
            CommandType.Repay => Repay(c, now),
            CommandType.SetBillingTerms => SetBillingTerms(c, now),
            CommandType.ScheduleDues => ScheduleDues(c, now),
            CommandType.SetDelinquencyPolicy => SetDelinquencyPolicy(c, now),
            CommandType.TopUp => TopUp(c, now),
            CommandType.ReleaseDeposit => ReleaseDeposit(c, now),
            CommandType.ApplyDeposit => ApplyDeposit(c, now),
            CommandType.PayOut => PayOut(c, now),
            CommandType.AdvanceClock => AdvanceClock(c, now),
            _ => throw new InvalidOperationException($"model: no rule for {c.Type}"),
        };
        _remembered.Add(c.RequestId, (c, reply));
        return reply;
    }

    // ----- outcomes -----

    private ModelReply Outcome(in Command c, long now, EventType type, Status status, ModelAccount? account, string? authorizationId = null,
        Int128? amount = null, ModelDetail? detail = null)
    {
        Sequence++;
        EngineTime = now;
        // After the event's own change: the lifecycle consequences every posting has (TERMS dues, the cap on dues, cure).
        if (status == Status.Ok && account is not null) Settle(account, type, amount ?? c.AmountMinor, now);
        Int128 available = account is null ? 0 : Available(account, now);
        Int128 held = account?.Held ?? 0;
        Int128 posted = account?.Posted ?? 0;
        _events.Add(new ModelEvent(Sequence, type, status, c.Type, account?.Id ?? c.AccountId ?? "", authorizationId, available, held, posted,
            now, amount ?? c.AmountMinor, detail));
        return new ModelReply(status, available, held, posted, Sequence, false);
    }

    private ModelReply Ok(in Command c, long now, EventType type, ModelAccount account, string? authorizationId = null, Int128? amount = null, ModelDetail? detail = null) =>
        Outcome(c, now, type, Status.Ok, account, authorizationId, amount, detail);

    private ModelReply Decline(in Command c, long now, Status status, ModelAccount? account) =>
        Outcome(c, now, EventType.Declined, status, account, c.AuthorizationId);

    /// <summary>The account a command names, refusing unknown and closed ones; null with the decline otherwise.</summary>
    private ModelAccount? Usable(in Command c, long now, out ModelReply decline)
    {
        decline = default;
        if (!Accounts.TryGetValue(c.AccountId!, out ModelAccount? account)) { decline = Decline(c, now, Status.AccountNotFound, null); return null; }
        if (account.State == AccountState.Closed) { decline = Decline(c, now, Status.AccountClosed, account); return null; }
        return account;
    }

    // ----- administration -----

    private ModelReply OpenAccount(in Command c, long now)
    {
        if (Accounts.TryGetValue(c.AccountId!, out ModelAccount? existing)) return Decline(c, now, Status.AccountExists, existing);
        if (Accounts.Count >= _limits.AccountsMax) return Decline(c, now, Status.EngineCapacityExceeded, null);
        var account = new ModelAccount { Id = c.AccountId!, Currency = c.Currency!, Limit = c.AmountMinor, Overcapture = c.OvercapturePercent, Ordinal = Accounts.Count };
        Accounts.Add(account.Id, account);
        _accountsInOrder.Add(account);
        if (c.Billing is { } billing) SetBilling(account, billing, now);
        return Ok(c, now, EventType.AccountOpened, account);
    }

    private ModelReply ChangeLimit(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        if (!Representable(c.AmountMinor, a.Temporary, a.Held, a.Posted)) return Decline(c, now, Status.ArithmeticOverflow, a);
        a.Limit = c.AmountMinor;
        return Ok(c, now, EventType.LimitChanged, a);
    }

    private ModelReply SetTemporaryLimit(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        if (!Representable(a.Limit, c.AmountMinor, a.Held, a.Posted)) return Decline(c, now, Status.ArithmeticOverflow, a);
        a.Temporary = c.AmountMinor;
        a.TemporaryExpiresAt = c.AmountMinor == 0 ? 0 : c.ExpiresAtUnixMs;
        return Ok(c, now, EventType.TemporaryLimitSet, a);
    }

    private ModelReply SetState(in Command c, long now, AccountState state, EventType type)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        a.State = state;
        return Ok(c, now, type, a, amount: 0);
    }

    private ModelReply CloseAccount(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        // docs/LIFECYCLE.md: closing also needs the deposit returned.
        if (a.Held != 0 || a.Posted != 0 || a.Life.Deposit != 0) return Decline(c, now, Status.AccountHasBalance, a);
        a.State = AccountState.Closed;
        return Ok(c, now, EventType.AccountClosed, a, amount: 0);
    }

    private ModelReply SetControls(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        SpendingControls spec = c.Controls!;
        bool none = spec.MaxAuthorizationAmountMinor == 0 && spec.VelocityMaxCount == 0 && spec.VelocityMaxAmountMinor == 0
            && spec.VelocityWindowSeconds == 0 && spec.BlockedMccs.Length == 0;
        if (none || a.Controls is null) a.Spent.Clear();
        a.Controls = none ? null : new ModelControls
        {
            Cap = spec.MaxAuthorizationAmountMinor,
            VelocityCount = spec.VelocityMaxCount,
            VelocityAmount = spec.VelocityMaxAmountMinor,
            WindowSeconds = spec.VelocityWindowSeconds,
            Blocked = [.. spec.BlockedMccs],
        };
        return Ok(c, now, EventType.SpendingControlsSet, a, amount: 0);
    }

    // ----- authorization path -----

    /// <summary>Count and amount approved in the aligned velocity window containing <paramref name="now"/>.</summary>
    private static (int Count, Int128 Amount) Used(ModelAccount a, long now)
    {
        long windowMs = a.Controls!.WindowSeconds * 1000L;
        if (windowMs == 0) return (0, 0);
        int count = 0;
        Int128 amount = 0;
        foreach (var (at, n, spent) in a.Spent)
        {
            if (at / windowMs != now / windowMs) continue;
            count += n;
            amount += spent;
        }
        return (count, amount);
    }

    private static void RecordSpend(ModelAccount a, long now, int count, Int128 amount)
    {
        if (a.Controls is null) return;
        long windowMs = a.Controls.WindowSeconds * 1000L;
        if (windowMs > 0) a.Spent.RemoveAll(s => s.At / windowMs != now / windowMs);
        a.Spent.Add((now, count, amount));
    }

    /// <summary>Closed, then the manual freeze, then the automatic delinquency freeze (FROZEN_DELINQUENT and CHARGED_OFF).</summary>
    private static Status CanAuthorize(ModelAccount a) => a.State switch
    {
        AccountState.Closed => Status.AccountClosed,
        AccountState.Frozen => Status.AccountFrozen,
        _ => a.Life.Stage is DelinquencyStage.FrozenDelinquent or DelinquencyStage.ChargedOff ? Status.AccountFrozen : Status.Ok,
    };

    private ModelReply Authorize(in Command c, long now)
    {
        if (!Accounts.TryGetValue(c.AccountId!, out ModelAccount? a)) return Decline(c, now, Status.AccountNotFound, null);
        Status status = CanAuthorize(a);
        if (status == Status.Ok && c.Currency != a.Currency) status = Status.CurrencyMismatch;
        if (status == Status.Ok && a.Controls is { } k)
        {
            var (count, amount) = Used(a, now);
            if (c.Mcc >= 0 && k.Blocked.Contains(c.Mcc)) status = Status.MerchantCategoryBlocked;
            else if (k.Cap > 0 && c.AmountMinor > k.Cap) status = Status.AmountLimitExceeded;
            else if (k.VelocityCount > 0 && count + 1 > k.VelocityCount) status = Status.VelocityLimitExceeded;
            else if (k.VelocityAmount > 0 && amount + c.AmountMinor > k.VelocityAmount) status = Status.VelocityLimitExceeded;
        }
        if (status == Status.Ok && Authorizations.ContainsKey(c.RequestId)) status = Status.RequestIdReused;
        if (status == Status.Ok && a.OpenHolds >= _limits.MaxOpenPerAccount) status = Status.OpenAuthorizationLimitExceeded;
        if (status == Status.Ok && !Representable(a.Limit, a.Temporary, a.Held + c.AmountMinor, a.Posted)) status = Status.ArithmeticOverflow;
        if (status == Status.Ok && c.AmountMinor > Available(a, now)) status = Status.InsufficientCredit;
        if (status != Status.Ok) return Outcome(c, now, EventType.Declined, status, a, null);

        int seconds = c.ExpiresInSeconds > 0 ? c.ExpiresInSeconds : _limits.DefaultHoldExpirySeconds;
        var authorization = new ModelAuthorization
        {
            Id = c.RequestId, AccountId = a.Id, Authorized = c.AmountMinor, Held = c.AmountMinor,
            ExpiresAt = now + seconds * 1000L, CreatedSequence = Sequence + 1, State = HoldState.Open,
        };
        Authorizations.Add(authorization.Id, authorization);
        _open.Add(authorization);
        a.Held += c.AmountMinor;
        a.OpenHolds++;
        RecordSpend(a, now, 1, c.AmountMinor);
        return Ok(c, now, EventType.Authorized, a, authorization.Id);
    }

    /// <summary>The authorization a command names and its account; a decline when it is unknown or not open.</summary>
    private ModelAuthorization? OpenAuthorization(in Command c, long now, out ModelReply decline)
    {
        decline = default;
        if (!Authorizations.TryGetValue(c.AuthorizationId!, out ModelAuthorization? z)) { decline = Decline(c, now, Status.AuthorizationNotFound, null); return null; }
        ModelAccount a = Accounts[z.AccountId];
        if (z.State == HoldState.Voided) { decline = Decline(c, now, Status.AuthorizationVoided, a); return null; }
        if (z.State != HoldState.Open) { decline = Decline(c, now, Status.AuthorizationClosed, a); return null; }
        return z;
    }

    private ModelReply Increment(in Command c, long now)
    {
        if (OpenAuthorization(c, now, out var decline) is not { } z) return decline;
        ModelAccount a = Accounts[z.AccountId];
        Status status = CanAuthorize(a);
        if (status == Status.Ok && a.Controls is { } k)
        {
            var (count, amount) = Used(a, now);
            if (k.Cap > 0 && z.Authorized + c.AmountMinor > k.Cap) status = Status.AmountLimitExceeded;
            else if (k.VelocityCount > 0 && count > k.VelocityCount) status = Status.VelocityLimitExceeded;
            else if (k.VelocityAmount > 0 && amount + c.AmountMinor > k.VelocityAmount) status = Status.VelocityLimitExceeded;
        }
        if (status == Status.Ok && !Fits(z.Authorized + c.AmountMinor)) status = Status.ArithmeticOverflow;
        if (status == Status.Ok && !Representable(a.Limit, a.Temporary, a.Held + c.AmountMinor, a.Posted)) status = Status.ArithmeticOverflow;
        if (status == Status.Ok && c.AmountMinor > Available(a, now)) status = Status.InsufficientCredit;
        if (status != Status.Ok) return Decline(c, now, status, a);

        z.Authorized += c.AmountMinor;
        z.Held += c.AmountMinor;
        a.Held += c.AmountMinor;
        RecordSpend(a, now, 0, c.AmountMinor);
        return Ok(c, now, EventType.AuthorizationIncreased, a, z.Id);
    }

    private ModelReply Capture(in Command c, long now)
    {
        if (!Authorizations.TryGetValue(c.AuthorizationId!, out ModelAuthorization? z)) return Decline(c, now, Status.AuthorizationNotFound, null);
        ModelAccount a = Accounts[z.AccountId];
        if (z.State == HoldState.Voided) return Decline(c, now, Status.AuthorizationVoided, a);
        if (z.State == HoldState.Closed) return Decline(c, now, Status.AuthorizationClosed, a);
        if (a.State == AccountState.Closed) return Decline(c, now, Status.AccountClosed, a);
        Int128 capturedAfter = z.Captured + c.AmountMinor;
        Int128 capturable = z.Authorized - z.Reversed;
        if (capturedAfter * 100 > capturable * (100 + a.Overcapture)) return Decline(c, now, Status.CaptureExceedsAuthorization, a);
        if (capturedAfter > long.MaxValue) return Decline(c, now, Status.ArithmeticOverflow, a);
        // An expired authorization holds nothing; an open one closes when final, fully captured, or emptied.
        bool closes = c.Final || capturedAfter >= capturable || (z.State == HoldState.Open && z.Held <= c.AmountMinor);
        Int128 release = closes ? z.Held : Int128.Min(z.Held, c.AmountMinor);
        if (!Representable(a.Limit, a.Temporary, a.Held - release, a.Posted + c.AmountMinor)) return Decline(c, now, Status.ArithmeticOverflow, a);

        z.Held -= release;
        a.Held -= release;
        z.Captured = capturedAfter;
        a.Posted += c.AmountMinor;
        if (closes) Close(z, a, HoldState.Closed);
        return Ok(c, now, EventType.Captured, a, z.Id);
    }

    private ModelReply Void(in Command c, long now)
    {
        if (OpenAuthorization(c, now, out var decline) is not { } z) return decline;
        ModelAccount a = Accounts[z.AccountId];
        Int128 release = c.AmountMinor == 0 ? z.Held : c.AmountMinor;
        if (release > z.Held) return Decline(c, now, Status.AmountExceedsHold, a);
        z.Held -= release;
        a.Held -= release;
        z.Reversed += release;
        if (z.Held == 0) Close(z, a, z.Captured == 0 ? HoldState.Voided : HoldState.Closed);
        return Ok(c, now, EventType.Voided, a, z.Id, amount: release);
    }

    private void Close(ModelAuthorization z, ModelAccount a, HoldState state)
    {
        if (z.State == HoldState.Open)
        {
            _open.Remove(z);
            a.OpenHolds--;
        }
        z.State = state;
    }

    private ModelReply Repay(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        Int128 postedAfter = a.Posted - c.AmountMinor;
        if (!Representable(a.Limit, a.Temporary, a.Held, postedAfter)) return Decline(c, now, Status.ArithmeticOverflow, a);
        a.Posted = postedAfter;
        return Ok(c, now, EventType.Repaid, a, detail: Payment(a, c.AmountMinor, now));
    }

    private ModelReply Post(in Command c, long now, int sign, EventType type)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        Int128 postedAfter = a.Posted + sign * (Int128)c.AmountMinor;
        if (!Representable(a.Limit, a.Temporary, a.Held, postedAfter)) return Decline(c, now, Status.ArithmeticOverflow, a);
        a.Posted = postedAfter;
        return Ok(c, now, type, a, c.AuthorizationId);
    }

    private ModelReply Refund(in Command c, long now)
    {
        if (Usable(c, now, out var decline) is not { } a) return decline;
        ModelAuthorization? linked = null;
        if (c.AuthorizationId is not null)
        {
            if (!Authorizations.TryGetValue(c.AuthorizationId, out linked) || linked.AccountId != a.Id) return Decline(c, now, Status.AuthorizationNotFound, a);
            if (linked.Refunded + c.AmountMinor > linked.Captured) return Decline(c, now, Status.RefundExceedsCapture, a);
        }
        ModelReply reply = Post(c, now, -1, EventType.Refunded);
        if (linked is not null && reply.Status == Status.Ok) linked.Refunded += c.AmountMinor;
        return reply;
    }

    // ----- expiry -----

    private void Expire(long now)
    {
        List<ModelAuthorization> due = _open
            .Where(z => z.ExpiresAt <= now)
            .OrderBy(z => z.ExpiresAt).ThenBy(z => z.CreatedSequence)
            .Take(_limits.ExpirationsPerTickMax)
            .ToList();
        foreach (ModelAuthorization z in due)
        {
            ModelAccount a = Accounts[z.AccountId];
            Int128 released = z.Held;
            a.Held -= z.Held;
            z.Held = 0;
            Close(z, a, HoldState.Expired);
            Sequence++;
            EngineTime = now;
            _events.Add(new ModelEvent(Sequence, EventType.Expired, Status.Ok, CommandType.Tick, a.Id, z.Id, Available(a, now), a.Held, a.Posted, now, released, null));
        }
    }

    // ----- idempotency -----

    private static bool SamePayload(in Command x, in Command y) =>
        x.Type == y.Type
        && x.AccountId == y.AccountId && x.AuthorizationId == y.AuthorizationId && x.CustomerId == y.CustomerId
        && x.Currency == y.Currency && x.MerchantId == y.MerchantId && x.Reason == y.Reason
        && x.AmountMinor == y.AmountMinor && x.ExpiresAtUnixMs == y.ExpiresAtUnixMs && x.ExpiresInSeconds == y.ExpiresInSeconds
        && x.Mcc == y.Mcc && x.OvercapturePercent == y.OvercapturePercent && x.Final == y.Final
        && SameControls(x.Controls, y.Controls)
        && Equals(x.Billing, y.Billing) && Equals(x.Policy, y.Policy) && x.FundsKind == y.FundsKind
        && (x.Dues is null || y.Dues is null ? x.Dues is null && y.Dues is null : x.Dues.SequenceEqual(y.Dues));

    private static bool SameControls(SpendingControls? x, SpendingControls? y) =>
        x is null || y is null
            ? x is null && y is null
            : x.MaxAuthorizationAmountMinor == y.MaxAuthorizationAmountMinor && x.VelocityMaxCount == y.VelocityMaxCount
              && x.VelocityMaxAmountMinor == y.VelocityMaxAmountMinor && x.VelocityWindowSeconds == y.VelocityWindowSeconds
              && x.BlockedMccs.SequenceEqual(y.BlockedMccs);
}
