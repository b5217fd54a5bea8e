namespace Engine.Domain.Tests.Model;

/// <summary>
/// Seeded random command streams with the biases of real traffic: mostly authorizations, captures, voids and
/// repayments; some administration; retries of earlier request ids (same and changed payloads); ticks with time
/// moving on so holds and temporary limits lapse; references to unknown accounts and authorizations; amounts at
/// and around the available credit. It peeks at the reference model (never at the ledger) to aim near the edges.
/// The credit lifecycle (docs/LIFECYCLE.md) is in every stream: billing on OpenAccount and SetBillingTerms, receivable
/// plans, delinquency policies, customer funds, test clocks, and time jumps of hours to months so statements close, dues
/// fall due and thresholds are crossed; <c>lifecycleHeavy</c> streams have more of all of it.
/// </summary>
internal sealed class CommandGenerator
{
    public const int VelocityWindowSeconds = 3600;
    private const int AccountPool = 48;
    private const int HugeAccountPool = 6;
    private static readonly int[] Mccs = [4829, 5411, 5812, 7995];
    private static readonly string[] Currencies = ["USD", "USD", "USD", "EUR"];

    private readonly Random _random;
    private readonly ReferenceModel _model;
    private readonly bool _unrestrictedHuge;
    private readonly bool _lifecycleHeavy;
    private readonly List<Command> _history = [];
    /// <summary>Ids of authorizations the model approved, oldest first.</summary>
    private readonly List<string> _authorizationIds = [];
    private string? _pendingAuthorization;
    private int _next;

    /// <param name="unrestrictedHuge">Let huge accounts reach every corner of int64 (limits of long.MaxValue, unbounded
    /// credit balances) instead of keeping limit + temporary − posted below 2^62.</param>
    /// <param name="lifecycleHeavy">More lifecycle commands and time jumps (the lifecycle theory).</param>
    public CommandGenerator(int seed, ReferenceModel model, long startUnixMs, bool unrestrictedHuge = false, bool lifecycleHeavy = false)
    {
        _random = new Random(seed);
        _model = model;
        _unrestrictedHuge = unrestrictedHuge;
        _lifecycleHeavy = lifecycleHeavy;
        Clock = startUnixMs;
    }

    /// <summary>The (wall) clock handed to the ledger with the next command; it sometimes steps back.</summary>
    public long Clock { get; private set; }

    /// <summary>Engine time as the next command will see it: the clock plus what AdvanceClock added, never back.</summary>
    private long EngineNow => Math.Max(Clock + _model.ClockOffsetMs, _model.EngineTime);

    private const long HourMs = 3_600_000;
    private const long DayMs = 24 * HourMs;

    private static string AccountName(int i) => i < AccountPool ? $"acct-{i}" : $"huge-{i - AccountPool}";

    private static bool IsHuge(string accountId) => accountId.StartsWith("huge-", StringComparison.Ordinal);

    private long Between(long low, long high) =>
        low >= high ? low : high == long.MaxValue ? _random.NextInt64(low, high) : _random.NextInt64(low, high + 1);

    /// <summary>Clamps a wide intermediate to a valid positive amount.</summary>
    private static long Amount(Int128 value) => (long)Int128.Clamp(value, 1, long.MaxValue);

    private bool Chance(double p) => _random.NextDouble() < p;

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    public Command Next()
    {
        // Learn whether the previous Authorize was approved (the model has run it by now).
        if (_pendingAuthorization is { } pending && _model.Authorizations.ContainsKey(pending) && !_authorizationIds.Contains(pending))
            _authorizationIds.Add(pending);
        AdvanceClock();
        Command command = _next < 40 ? Open(_next) : Choose();
        _next++;
        if (command.Type != CommandType.Tick) _history.Add(command);
        _pendingAuthorization = command.Type == CommandType.Authorize ? command.RequestId : null;
        return command;
    }

    private string NewRequestId() => $"r{_next}";

    private void AdvanceClock()
    {
        double jump = _random.NextDouble();
        // Per 100,000 commands about 10 (heavy: 40) jumps of a day to 45 days and 100 (heavy: 400) of hours: with the
        // AdvanceClock commands, light streams span about two years of engine time, heavy ones about seven.
        if (jump < (_lifecycleHeavy ? 0.0004 : 0.0001)) { Clock += Between(DayMs, 45 * DayMs); return; }       // weeks to months pass
        if (jump < (_lifecycleHeavy ? 0.0044 : 0.0011)) { Clock += Between(HourMs, 36 * HourMs); return; }     // hours to a day or so
        double p = _random.NextDouble();
        if (p < 0.005) Clock -= Between(0, 60_000);                       // the clock steps back
        else if (p < 0.008) Clock += Between(600_000, 3_600_000);          // a quiet spell
        else if (p < 0.033) Clock += Between(10_000, 120_000);
        else if (p < 0.250) Clock += Between(0, 2_000);
        else Clock += Between(0, 200);
    }

    private Command Choose()
    {
        int roll = _random.Next(_lifecycleHeavy ? 1_600 : 1_120);
        return roll switch
        {
            < 300 => Authorize(),
            < 450 => Capture(),
            < 530 => Void(),
            < 580 => Increment(),
            < 650 => Repay(),
            < 690 => ForcePost(),
            < 730 => Refund(),
            < 780 => Command.Tick(),
            < 880 => Retry(),
            < 900 => Open(_random.Next(AccountPool + HugeAccountPool)),
            < 920 => ChangeLimit(),
            < 940 => TemporaryLimit(),
            < 948 => Command.Freeze(NewRequestId(), AnyAccount(), Chance(0.5) ? "risk" : ""),
            < 972 => Command.Unfreeze(NewRequestId(), AnyAccount()),
            < 975 => Close(),
            < 1_000 => Controls(),
            _ => Lifecycle(),
        };
    }

    /// <summary>Mostly an account that exists; sometimes one that never will, or one not opened yet.</summary>
    private string AnyAccount()
    {
        if (Chance(0.03)) return $"ghost-{_random.Next(5)}";
        int roll = _random.Next(100);
        // A few hot accounts (many open holds at once), the usual crowd, and now and then anyone in the pool.
        return roll switch
        {
            < 25 => AccountName(_random.Next(4)),
            < 80 => AccountName(_random.Next(32)),
            < 86 => AccountName(AccountPool + _random.Next(HugeAccountPool)),
            _ => AccountName(_random.Next(AccountPool + HugeAccountPool)),
        };
    }

    private ReferenceModel.ModelAccount? Model(string accountId) => _model.Accounts.GetValueOrDefault(accountId);

    private long LimitFor(string accountId) =>
        IsHuge(accountId)
            ? (_unrestrictedHuge && Chance(0.3) ? long.MaxValue - Between(0, 1_000) : Between(1L << 59, 1L << 61))
            : Chance(0.1) ? Between(0, 100) : Between(1_000, 200_000);

    private Command Open(int index)
    {
        string accountId = AccountName(index);
        string currency = IsHuge(accountId) ? "USD" : Pick(Currencies);
        int overcapture = Chance(0.6) ? 0 : Pick<int>([5, 10, 20, 100]);
        Command open = Command.OpenAccount(NewRequestId(), accountId, $"cust-{index % 17}", currency, LimitFor(accountId), overcapture);
        // The hot accounts keep docs/SPEC.md behaviour (no dues), so they still reach the open-holds cap; the rest bill.
        if (!IsHot(accountId) && Chance(_lifecycleHeavy ? 0.85 : 0.65)) open.Billing = Billing(accountId);
        else if (Chance(0.1)) open.Billing = BillingTerms.None;
        return open;
    }

    private static bool IsHot(string accountId) => accountId is "acct-0" or "acct-1" or "acct-2" or "acct-3";

    /// <summary>An amount for an account: small, at the available credit (−1, 0, +1), around it, or large.</summary>
    private long AmountFor(string accountId)
    {
        ReferenceModel.ModelAccount? a = Model(accountId);
        long now = EngineNow;
        Int128 available = a is null ? 0 : ReferenceModel.Available(a, now);
        long clampedAvailable = (long)Int128.Clamp(available, 1, long.MaxValue);
        bool huge = IsHuge(accountId);
        int roll = _random.Next(100);
        long amount = roll switch
        {
            < 40 => huge ? Between(1, 1L << 58) : Between(1, 5_000),
            < 60 => Amount((Int128)clampedAvailable + _random.Next(-1, 2)),
            < 80 => Between(1, Amount((Int128)clampedAvailable + clampedAvailable / 5)),
            < 97 => huge ? Between(1, 1L << 61) : Between(1, 60_000),
            _ => huge ? long.MaxValue - Between(0, 1_000) : Between(1, 1_000_000),
        };
        return Math.Clamp(amount, 1, long.MaxValue);
    }

    private Command Authorize()
    {
        string accountId = AnyAccount();
        string currency = Model(accountId)?.Currency ?? "USD";
        if (Chance(0.03)) currency = currency == "USD" ? "EUR" : "USD";
        int mcc = Chance(0.5) ? -1 : Pick(Mccs);
        string? merchant = Chance(0.3) ? null : $"m-{_random.Next(50)}";
        int expiresInSeconds = Chance(0.4) ? 0 : (int)Between(1, 3_600);
        return Command.Authorize(NewRequestId(), accountId, AmountFor(accountId), currency, merchant, mcc, expiresInSeconds);
    }

    /// <summary>Mostly an open authorization, else a recent one (often closed by now), sometimes an old one, rarely an unknown id.</summary>
    private string AnyAuthorization()
    {
        if (_authorizationIds.Count == 0 || Chance(0.04)) return $"nope-{_random.Next(10)}";
        if (Chance(0.6))
        {
            for (int attempt = 0; attempt < 8; attempt++)
            {
                int recent = Math.Min(_authorizationIds.Count, 200);
                string id = _authorizationIds[_authorizationIds.Count - 1 - _random.Next(recent)];
                if (_model.Authorizations[id].State == ReferenceModel.HoldState.Open) return id;
            }
        }
        if (Chance(0.75))
        {
            int recent = Math.Min(_authorizationIds.Count, 60);
            return _authorizationIds[_authorizationIds.Count - 1 - _random.Next(recent)];
        }
        return Pick(_authorizationIds);
    }

    private Command Capture()
    {
        string id = AnyAuthorization();
        long amount;
        bool final = Chance(0.3);
        if (_model.Authorizations.TryGetValue(id, out var z))
        {
            long authorized = (long)Int128.Min(z.Authorized, long.MaxValue);
            long remaining = (long)Int128.Clamp(z.Authorized - z.Captured, 1, long.MaxValue);
            int overcapture = _model.Accounts[z.AccountId].Overcapture;
            long tolerance = (long)Int128.Clamp((Int128)authorized * (100 + overcapture) / 100 - z.Captured, 1, long.MaxValue);
            int roll = _random.Next(100);
            amount = roll switch
            {
                < 40 => remaining,
                < 65 => Between(1, remaining),
                < 80 => Amount((Int128)tolerance + _random.Next(-1, 2)),
                _ => Between(1, Amount((Int128)remaining * 2)),
            };
        }
        else amount = Between(1, 10_000);
        return Command.Capture(NewRequestId(), id, amount, final);
    }

    private Command Void()
    {
        string id = AnyAuthorization();
        long amount = 0;
        if (_model.Authorizations.TryGetValue(id, out var z) && Chance(0.4))
        {
            long held = (long)Int128.Clamp(z.Held, 0, long.MaxValue);
            amount = Chance(0.1) ? Amount((Int128)held + 1) : Between(1, Math.Max(1, held));
        }
        return Command.Void(NewRequestId(), id, amount);
    }

    private Command Increment()
    {
        string id = AnyAuthorization();
        string accountId = _model.Authorizations.TryGetValue(id, out var z) ? z.AccountId : "acct-0";
        return Command.IncrementAuthorization(NewRequestId(), id, Chance(0.5) ? Between(1, 2_000) : AmountFor(accountId));
    }

    // Unless unrestricted, huge accounts keep limit + temporary − posted below 2^62, so releasing every hold
    // can never leave int64 (see KnownBugTests for what happens when it can).
    private const long CreditCeiling = 1L << 62;

    /// <summary>A repayment or refund of at most the room left under the ceiling.</summary>
    private long CreditCap(string accountId, long amount)
    {
        if (_unrestrictedHuge || Model(accountId) is not { } a) return amount;
        Int128 room = CreditCeiling - a.Limit - a.Temporary + a.Posted;
        return room < amount ? Amount(room) : amount;
    }

    private long LimitCap(string accountId, long limit)
    {
        if (_unrestrictedHuge || Model(accountId) is not { } a) return limit;
        Int128 room = CreditCeiling - a.Temporary + a.Posted;
        return room < limit ? (long)Int128.Clamp(room, 0, long.MaxValue) : limit;
    }

    private long TemporaryCap(string accountId, long amount)
    {
        if (_unrestrictedHuge || Model(accountId) is not { } a) return amount;
        Int128 room = CreditCeiling - a.Limit + a.Posted;
        return room < amount ? Amount(room) : amount;
    }

    private Command Repay()
    {
        string accountId = AnyAccount();
        long amount = Model(accountId) is { } a && a.Posted > 0 && Chance(0.3)
            ? (long)Int128.Min(a.Posted, long.MaxValue)
            : AmountFor(accountId);
        if (PaymentAimedAtDues(accountId) is { } aimed) amount = aimed;
        if (_unrestrictedHuge && IsHuge(accountId) && Model(accountId) is { } edge && Chance(0.3))
        {
            // The largest repayment whose balances still fit int64 while the holds are in place.
            amount = Amount(long.MaxValue - (edge.Limit + edge.Temporary - edge.Held - edge.Posted));
        }
        return Command.Repay(NewRequestId(), accountId, CreditCap(accountId, amount));
    }

    private Command ForcePost()
    {
        string accountId = AnyAccount();
        return Command.ForcePost(NewRequestId(), accountId, AmountFor(accountId), Chance(0.5) ? "m-force" : null, Chance(0.5) ? -1 : Pick(Mccs));
    }

    private Command Refund()
    {
        string accountId = AnyAccount();
        string? authorizationId = null;
        long amount = Between(1, 5_000);
        if (Chance(0.5))
        {
            authorizationId = AnyAuthorization();
            if (_model.Authorizations.TryGetValue(authorizationId, out var z))
            {
                if (Chance(0.85)) accountId = z.AccountId;
                long refundable = (long)Int128.Clamp(z.Captured - z.Refunded, 0, long.MaxValue);
                amount = Chance(0.15) ? Amount((Int128)refundable + 1) : Between(1, Math.Max(1, refundable));
            }
        }
        return Command.Refund(NewRequestId(), accountId, CreditCap(accountId, amount), authorizationId);
    }

    private Command ChangeLimit()
    {
        string accountId = AnyAccount();
        return Command.ChangeLimit(NewRequestId(), accountId, LimitCap(accountId, LimitFor(accountId)));
    }

    private Command TemporaryLimit()
    {
        string accountId = AnyAccount();
        if (Chance(0.25)) return Command.SetTemporaryLimit(NewRequestId(), accountId, 0, 0);
        long amount = IsHuge(accountId) ? Between(1, 1L << 60) : Between(100, 50_000);
        if (_unrestrictedHuge && IsHuge(accountId) && Chance(0.2)) amount = long.MaxValue - Between(0, 10);
        long expiresAt = Math.Max(1, EngineNow + Between(-600_000, 3 * 3_600_000));
        return Command.SetTemporaryLimit(NewRequestId(), accountId, TemporaryCap(accountId, amount), expiresAt);
    }

    private Command Close()
    {
        var empty = _model.Accounts.Values.Where(a => a.Held == 0 && a.Posted == 0 && a.Life.Deposit == 0 && a.State != ReferenceModel.AccountState.Closed)
            .Select(a => a.Id).ToList();
        // Hot accounts stay open; others close now and then (mostly refused: they carry balances).
        string accountId = empty.Count > 0 && Chance(0.1) ? Pick(empty) : AnyAccount();
        if (accountId is "acct-0" or "acct-1" or "acct-2" or "acct-3") accountId = AccountName(4 + _random.Next(AccountPool + HugeAccountPool - 4));
        return Command.CloseAccount(NewRequestId(), accountId);
    }

    private Command Controls()
    {
        string accountId = AnyAccount();
        if (Chance(0.25)) return Command.SetSpendingControls(NewRequestId(), accountId, SpendingControls.None);
        int[] blocked = Mccs.Where(_ => Chance(0.3)).ToArray();
        var controls = new SpendingControls
        {
            MaxAuthorizationAmountMinor = Chance(0.5) ? 0 : Between(1_000, 20_000),
            VelocityMaxCount = Chance(0.5) ? 0 : (int)Between(2, 15),
            VelocityMaxAmountMinor = Chance(0.6) ? 0 : Between(5_000, 60_000),
            VelocityWindowSeconds = VelocityWindowSeconds,
            BlockedMccs = blocked,
        };
        return Command.SetSpendingControls(NewRequestId(), accountId, controls);
    }

    /// <summary>An earlier command again: mostly unchanged (a retransmission), sometimes with a changed payload.</summary>
    private Command Retry()
    {
        if (_history.Count == 0) return Command.Tick();
        Command earlier = Chance(0.7) ? _history[_history.Count - 1 - _random.Next(Math.Min(50, _history.Count))] : Pick(_history);
        if (Chance(0.7)) return earlier;
        Command changed = earlier;
        switch (earlier.Type)
        {
            case CommandType.Freeze:
            case CommandType.Unfreeze:
                changed.Reason += "x";
                break;
            case CommandType.CloseAccount:
                changed.AccountId = AnyAccount();
                if (changed.AccountId == earlier.AccountId) changed.AccountId += "-x";
                break;
            case CommandType.SetSpendingControls:
                changed.Controls = earlier.Controls == SpendingControls.None ? new SpendingControls { MaxAuthorizationAmountMinor = 1 } : SpendingControls.None;
                break;
            case CommandType.SetTemporaryLimit when earlier.AmountMinor == 0:
                changed.AmountMinor = 1;
                changed.ExpiresAtUnixMs = Math.Max(1, EngineNow);
                break;
            default:
                changed.AmountMinor = earlier.AmountMinor == long.MaxValue ? earlier.AmountMinor - 1 : earlier.AmountMinor + 1;
                break;
        }
        if (Chance(0.2))
        {
            // Same request id, another command altogether.
            changed = Command.Repay(earlier.RequestId, AnyAccount(), 1);
        }
        return changed;
    }

    // ----- the credit lifecycle (docs/LIFECYCLE.md) -----

    private Command Lifecycle()
    {
        int roll = _random.Next(100);
        return roll switch
        {
            < 8 => Command.SetBillingTerms(NewRequestId(), BillingAccount(), Chance(0.1) ? BillingTerms.None : Billing(AnyAccount())),
            < 20 => ScheduleDues(),
            < 28 => Policy(),
            < 43 => TopUpPrepaid(),
            < 55 => TopUpDeposit(),
            < 65 => ReleaseDeposit(),
            < 77 => ApplyDeposit(),
            < 99 => PayOut(),
            _ => Command.AdvanceClock(NewRequestId(), Chance(0.85) ? Between(HourMs, 2 * DayMs) : Between(DayMs, 40 * DayMs)),
        };
    }

    /// <summary>Any account but the hot ones, which keep docs/SPEC.md behaviour.</summary>
    private string BillingAccount()
    {
        string accountId = AnyAccount();
        return IsHot(accountId) ? AccountName(4 + _random.Next(AccountPool - 4)) : accountId;
    }

    private BillingTerms Billing(string accountId)
    {
        if (Chance(0.5)) return new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = Chance(0.1) ? 0 : (int)Between(1, 45) };
        bool huge = IsHuge(accountId);
        return new BillingTerms
        {
            Mode = BillingMode.Statement,
            StatementDay = (int)Between(1, BillingTerms.StatementDayMax),
            GraceDays = Chance(0.4) ? BillingTerms.DefaultGraceDays : (int)Between(0, 30),
            MinPaymentFloorMinor = Chance(0.4) ? BillingTerms.DefaultMinPaymentFloorMinor : huge && Chance(0.3) ? long.MaxValue - Between(0, 10) : Between(0, 3_000),
            MinPaymentPercent = Chance(0.4) ? BillingTerms.DefaultMinPaymentPercent : Chance(0.1) ? 100 : (int)Between(0, 30),
        };
    }

    private Command ScheduleDues()
    {
        string accountId = BillingAccount();
        int count = Chance(0.9) ? (int)Between(1, 6) : (int)Between(7, 40);
        Int128 unscheduled = Model(accountId) is { } a ? Int128.Max(a.Posted, 0) - ReferenceModel.OpenDues(a) : 0;
        // Mostly a plan within what is posted and not yet scheduled, sometimes one beyond it (refused).
        bool within = Chance(0.75);
        long share = Amount(unscheduled / count);
        var dues = new ScheduledDue[count];
        for (int i = 0; i < count; i++)
        {
            long dueAt = Math.Max(1, EngineNow + Between(-20 * DayMs, 200 * DayMs));
            long amount = within ? Between(1, share) : Chance(0.5) ? Amount(unscheduled + 1) : Between(1, 60_000);
            dues[i] = new ScheduledDue(dueAt, amount);
        }
        return Command.ScheduleDues(NewRequestId(), accountId, dues);
    }

    private Command Policy()
    {
        string accountId = AnyAccount();
        if (Chance(0.25)) return Command.SetDelinquencyPolicy(NewRequestId(), accountId, null);
        bool fast = Chance(0.4);
        var policy = new DelinquencyPolicy
        {
            RemindBeforeDueDays = (int)Between(0, 5),
            WatchAtDays = Chance(0.1) ? 0 : fast ? (int)Between(1, 4) : (int)Between(1, 20),
            FreezeAtDays = Chance(0.1) ? 0 : fast ? (int)Between(2, 8) : (int)Between(1, 40),
            ChargeOffAtDays = Chance(0.15) ? 0 : fast ? (int)Between(5, 25) : (int)Between(1, 200),
        };
        return Command.SetDelinquencyPolicy(NewRequestId(), accountId, policy);
    }

    /// <summary>Now and then a payment of exactly what is past due or of every open due, so cures happen to the unit.</summary>
    private long? PaymentAimedAtDues(string accountId)
    {
        if (Model(accountId) is not { } a || a.Life.Dues.Count == 0 || !Chance(0.25)) return null;
        Int128 pastDue = ReferenceModel.PastDue(a, ReferenceModel.DayOf(EngineNow));
        Int128 target = pastDue > 0 && Chance(0.7) ? pastDue + _random.Next(-1, 1) : ReferenceModel.OpenDues(a);
        return CreditCap(accountId, Amount(target));
    }

    private Command TopUpPrepaid()
    {
        string accountId = AnyAccount();
        long amount = PaymentAimedAtDues(accountId) ?? CreditCap(accountId, AmountFor(accountId));
        if (_unrestrictedHuge && IsHuge(accountId) && Chance(0.3)) amount = long.MaxValue - Between(0, 1_000);
        return Command.TopUp(NewRequestId(), accountId, amount, FundsKind.Prepaid);
    }

    private Command TopUpDeposit()
    {
        string accountId = AnyAccount();
        Int128 deposit = Model(accountId)?.Life.Deposit ?? 0;
        long amount = IsHuge(accountId)
            ? Chance(0.4) ? Amount(long.MaxValue - deposit + _random.Next(0, 2)) : Between(1, 1L << 62)
            : Between(1, 50_000);
        return Command.TopUp(NewRequestId(), accountId, amount, FundsKind.Deposit);
    }

    private Command ReleaseDeposit()
    {
        string accountId = AnyAccount();
        Int128 deposit = Model(accountId)?.Life.Deposit ?? 0;
        int roll = _random.Next(100);
        long amount = roll switch
        {
            < 40 => Amount(deposit),
            < 75 => Between(1, Amount(deposit)),
            _ => Amount(deposit + 1),
        };
        return Command.ReleaseDeposit(NewRequestId(), accountId, amount);
    }

    private Command ApplyDeposit()
    {
        string accountId = AnyAccount();
        ReferenceModel.ModelAccount? a = Model(accountId);
        Int128 deposit = a?.Life.Deposit ?? 0;
        Int128 owed = a is null ? 0 : Int128.Max(a.Posted, 0);
        Int128 most = Int128.Min(deposit, owed);
        int roll = _random.Next(100);
        long amount = roll switch
        {
            < 35 => Amount(most),
            < 70 => Between(1, Amount(most)),
            < 85 => Amount(deposit + 1),
            _ => Amount(owed + 1),
        };
        return Command.ApplyDeposit(NewRequestId(), accountId, amount);
    }

    private Command PayOut()
    {
        string accountId = AnyAccount();
        ReferenceModel.ModelAccount? a = Model(accountId);
        Int128 credit = a is null ? 0 : Int128.Max(-a.Posted, 0);
        int roll = _random.Next(100);
        long amount = roll switch
        {
            < 40 => Amount(credit),
            < 70 => Between(1, Amount(credit)),
            _ => Amount(credit + 1),
        };
        return Command.PayOut(NewRequestId(), accountId, amount);
    }
}
