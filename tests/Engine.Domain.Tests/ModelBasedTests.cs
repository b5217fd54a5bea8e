using System.Buffers;
using Engine.Domain.Tests.Model;
using Xunit.Abstractions;

namespace Engine.Domain.Tests;

/// <summary>
/// The ledger against a deliberately simple reference model (<see cref="ReferenceModel"/>) on long seeded random
/// command streams (<see cref="CommandGenerator"/>): every reply and every event must agree, invariants must hold
/// throughout, a snapshot taken mid-stream must continue identically, and replaying the encoded event log must
/// rebuild the exact same state. The streams carry the credit lifecycle too (docs/LIFECYCLE.md: billing, dues,
/// delinquency, customer funds, test clocks) with time jumps of hours to months; <see cref="LifecycleModelTests"/> runs
/// lifecycle-heavy streams. Together: 5 × 100,000 + 5 × 100,000 + 3 × 100,000 (huge accounts) = 1.3M commands.
/// </summary>
public sealed class ModelBasedTests(ITestOutputHelper output)
{
    internal const int CommandsPerSeed = 100_000;

    internal static LedgerOptions Options => new()
    {
        DefaultHoldExpirySeconds = 2 * 3600,
        OpenAuthorizationsPerAccountMax = 6,
        AccountsMax = 50,
        ExpirationsPerTickMax = 5,
        // Small, so ticks that fall behind (time jumps) play the rest of what is due on later ticks.
        LifecycleEventsPerTickMax = 4,
        // Random streams span months to years of engine time; closed authorizations stay known throughout, so the
        // model needs no retention rule (retention has its own tests).
        ClosedAuthorizationRetentionMs = 1_000L * 365 * 24 * 3600 * 1000,
    };

    private static ReferenceModel NewModel(LedgerOptions options)
    {
        DelinquencyPolicy policy = options.DelinquencyPolicy;
        return new(new ReferenceModel.Limits(options.DefaultHoldExpirySeconds, options.OpenAuthorizationsPerAccountMax, options.AccountsMax, options.ExpirationsPerTickMax,
            new ReferenceModel.ModelPolicy(policy.RemindBeforeDueDays, policy.WatchAtDays, policy.FreezeAtDays, policy.ChargeOffAtDays), options.LifecycleEventsPerTickMax));
    }

    /// <summary>Every status a journaled outcome can have (ENGINE_UNAVAILABLE is a gRPC status, never journaled).</summary>
    internal static Status[] EveryJournaledStatus => [.. Enum.GetValues<Status>().Where(s => s != Status.EngineUnavailable)];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(42)]
    [InlineData(20_240_601)]
    public void Ledger_agrees_with_the_reference_model_on_a_long_random_stream(int seed)
    {
        Statistics statistics = Run(seed, CommandsPerSeed, unrestrictedHuge: false);
        output.WriteLine(statistics.ToString());

        // The stream must actually reach the rules it claims to test.
        AssertReachesEveryRule(seed, statistics);
        Assert.True(statistics.LateCaptures > 0, "no capture of an expired authorization");
        Assert.True(statistics.ClockStepsBack > 0, "the clock never stepped back");
    }

    /// <summary>Every event type, every journaled status, every delinquency stage, and cures.</summary>
    internal static void AssertReachesEveryRule(int seed, Statistics statistics)
    {
        EventType[] everyEventType = [.. Enum.GetValues<EventType>().Where(t => t != EventType.None)];
        Assert.All(everyEventType, t => Assert.True(statistics.Events.GetValueOrDefault(t) > 0, $"no {t} event in seed {seed}"));
        Assert.All(EveryJournaledStatus, s => Assert.True(statistics.Statuses.GetValueOrDefault(s) > 0, $"no {s} reply in seed {seed}"));
        DelinquencyStage[] stages = [DelinquencyStage.Watch, DelinquencyStage.FrozenDelinquent, DelinquencyStage.ChargedOff];
        Assert.All(stages, s => Assert.True(statistics.StagesReached.GetValueOrDefault(s) > 0, $"no account reached {s} in seed {seed}"));
        Assert.True(statistics.Cures > 0, $"no payment cured a delinquent account in seed {seed}");
        Assert.True(statistics.FrozenForDelinquency > 0, $"no authorization declined by the delinquency freeze in seed {seed}");
        Assert.True(statistics.Replays > 1_000, $"only {statistics.Replays} replays");
    }

    internal sealed class Statistics
    {
        public Dictionary<EventType, int> Events { get; } = [];
        public Dictionary<Status, int> Statuses { get; } = [];
        public int Replays;
        public int LateCaptures;
        public int ClockStepsBack;
        public long EngineTimeSpanMs;
        public Dictionary<DelinquencyStage, int> StagesReached { get; } = [];
        /// <summary>Payments whose event took WATCH or FROZEN_DELINQUENT back to CURRENT.</summary>
        public int Cures;
        /// <summary>Authorizations declined ACCOUNT_FROZEN on an account frozen only by delinquency.</summary>
        public int FrozenForDelinquency;

        public override string ToString() =>
            $"replays={Replays} lateCaptures={LateCaptures} clockStepsBack={ClockStepsBack} span={TimeSpan.FromMilliseconds(EngineTimeSpanMs)} " +
            $"cures={Cures} frozenForDelinquency={FrozenForDelinquency} stages: " +
            string.Join(", ", StagesReached.OrderBy(e => e.Key).Select(e => $"{e.Key}={e.Value}")) + "\n" +
            "events: " + string.Join(", ", Events.OrderBy(e => e.Key).Select(e => $"{e.Key}={e.Value}")) + "\n" +
            "statuses: " + string.Join(", ", Statuses.OrderBy(e => e.Key).Select(e => $"{e.Key}={e.Value}"));
    }

    internal static Statistics Run(int seed, int commandCount, bool unrestrictedHuge, bool lifecycleHeavy = false)
    {
        LedgerOptions options = Options;
        var ledger = new Ledger(options);
        ReferenceModel model = NewModel(options);
        var generator = new CommandGenerator(seed, model, LedgerHarness.T0, unrestrictedHuge, lifecycleHeavy);
        var sink = new CollectingSink();
        var modelEvents = new List<ReferenceModel.ModelEvent>();
        var journal = new ArrayBufferWriter<byte>(1 << 20);
        var statistics = new Statistics();
        var recent = new Queue<string>();
        long previousClock = long.MinValue;

        for (int index = 0; index < commandCount; index++)
        {
            Command command = generator.Next();
            long clock = generator.Clock;
            if (clock < previousClock) statistics.ClockStepsBack++;
            previousClock = clock;
            if (command.Type != CommandType.Tick && CommandValidator.Validate(command) is { } malformed)
                Assert.Fail($"seed {seed} #{index}: the generator made a malformed command ({malformed}): {Describe(command)}");
            bool lateCapture = command.Type == CommandType.Capture && model.Authorizations.TryGetValue(command.AuthorizationId!, out var held)
                && held.State == ReferenceModel.HoldState.Expired;
            bool frozenForDelinquencyOnly = command.Type == CommandType.Authorize && model.Accounts.TryGetValue(command.AccountId!, out var target)
                && target.State == ReferenceModel.AccountState.Active && target.Life.Stage >= DelinquencyStage.FrozenDelinquent;

            // What the model expects to come due, kept for the failure message of commands that play engine time.
            string agendaBefore = command.Type is CommandType.Tick or CommandType.AdvanceClock ? model.DescribeAgenda() : "";
            sink.Clear();
            modelEvents.Clear();
            Reply reply;
            try
            {
                reply = ledger.Execute(command, clock, sink);
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed} #{index}: the ledger threw {e.GetType().Name}: {e.Message}\n  command: {Describe(command)}\n{Context(recent)}");
                throw;
            }
            ReferenceModel.ModelReply expected = model.Execute(command, clock, modelEvents);

            bool sameEvents = SameEvents(sink.Events, modelEvents, out string eventDifference);
            if (!Same(reply, expected) || !sameEvents)
            {
                string accountView = DescribeAccounts(command, modelEvents.Count > 0 ? modelEvents[0].AccountId : null, model, ledger)
                    + (agendaBefore.Length > 0 ? $"\n  model's agenda before the command:\n    {agendaBefore}" : "");
                Assert.Fail($"seed {seed} #{index}: ledger and model disagree\n  command: {Describe(command)} at clock {clock} (engine {model.EngineTime})\n" +
                    $"  ledger: {reply}\n  model:  {Describe(expected)}\n  events: {(sameEvents ? "same" : eventDifference)}\n{accountView}\n{Context(recent)}");
            }

            foreach (LedgerEvent e in sink.Events)
            {
                Span<byte> destination = journal.GetSpan(EventCodec.EncodedSizeMax);
                journal.Advance(EventCodec.Encode(e, destination));
                statistics.Events[e.Type] = statistics.Events.GetValueOrDefault(e.Type) + 1;
                if (e.Type == EventType.DelinquencyStageChanged)
                    statistics.StagesReached[e.Lifecycle!.Value.StageAfter] = statistics.StagesReached.GetValueOrDefault(e.Lifecycle!.Value.StageAfter) + 1;
                if (e.Lifecycle is { StageBefore: DelinquencyStage.Watch or DelinquencyStage.FrozenDelinquent, StageAfter: DelinquencyStage.Current }) statistics.Cures++;
            }
            if (frozenForDelinquencyOnly && reply.Status == Status.AccountFrozen && !reply.Replayed) statistics.FrozenForDelinquency++;
            if (command.Type != CommandType.Tick) statistics.Statuses[reply.Status] = statistics.Statuses.GetValueOrDefault(reply.Status) + 1;
            if (reply.Replayed) statistics.Replays++;
            if (lateCapture && reply.Status == Status.Ok) statistics.LateCaptures++;

            recent.Enqueue($"#{index} {Describe(command)} -> {reply}");
            if (recent.Count > 8) recent.Dequeue();

            if (index % 5_000 == 4_999)
            {
                ledger.CheckInvariants();
                CompareAccounts(seed, index, model, ledger);
            }
            if (index == commandCount / 2)
            {
                // A restart in the middle: the restored ledger must carry on exactly as the original would have.
                UInt128 digest = ledger.ComputeDigest();
                var stream = new MemoryStream();
                ledger.WriteSnapshot(stream);
                stream.Position = 0;
                ledger = Ledger.ReadSnapshot(stream, options);
                Assert.Equal(digest, ledger.ComputeDigest());
            }
        }

        ledger.CheckInvariants();
        CompareAccounts(seed, commandCount, model, ledger);
        CompareAuthorizations(seed, model, ledger);
        statistics.EngineTimeSpanMs = ledger.LastTimestampUnixMs - LedgerHarness.T0;

        // Determinism: the encoded event log alone rebuilds the same state.
        var rebuilt = new Ledger(options);
        ReadOnlySpan<byte> log = journal.WrittenSpan;
        long applied = 0;
        while (log.Length > 0)
        {
            int read = EventCodec.Decode(log, out LedgerEvent e);
            rebuilt.Apply(e);
            applied++;
            log = log[read..];
        }
        Assert.Equal(ledger.LastSequence, applied);
        rebuilt.CheckInvariants();
        Assert.Equal(ledger.ComputeDigest(), rebuilt.ComputeDigest());

        var snapshot = new MemoryStream();
        ledger.WriteSnapshot(snapshot);
        snapshot.Position = 0;
        Ledger restored = Ledger.ReadSnapshot(snapshot, options);
        restored.CheckInvariants();
        Assert.Equal(ledger.ComputeDigest(), restored.ComputeDigest());
        return statistics;
    }

    private static bool Same(in Reply reply, in ReferenceModel.ModelReply expected) =>
        reply.Status == expected.Status && reply.AvailableMinor == expected.Available && reply.HeldMinor == expected.Held
        && reply.PostedMinor == expected.Posted && reply.Sequence == expected.Sequence && reply.Replayed == expected.Replayed;

    private static bool SameEvents(List<LedgerEvent> actual, List<ReferenceModel.ModelEvent> expected, out string difference)
    {
        difference = "";
        if (actual.Count != expected.Count)
        {
            difference = $"ledger emitted {actual.Count} events, model {expected.Count}:\n    " + string.Join("\n    ", actual.Select(e => e.ToString())) +
                "\n  model:\n    " + string.Join("\n    ", expected.Select(e => e.ToString()));
            return false;
        }
        for (int i = 0; i < actual.Count; i++)
        {
            LedgerEvent a = actual[i];
            ReferenceModel.ModelEvent m = expected[i];
            if (a.Sequence != m.Sequence || a.Type != m.Type || a.Status != m.Status || a.Command != m.Command || a.AccountId != m.AccountId
                || a.AuthorizationId != m.AuthorizationId || a.AvailableMinor != m.Available || a.HeldMinor != m.Held || a.PostedMinor != m.Posted
                || a.TimestampUnixMs != m.Timestamp || a.AmountMinor != m.Amount || !SameDetail(a.Lifecycle, m.Detail))
            {
                difference = $"event {i}:\n    ledger {a} at {a.TimestampUnixMs} {Describe(a.Lifecycle)}\n    model  {m} {Describe(m.Detail)}";
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The lifecycle detail that matters to consumers: stages, days past due, past due, deposit, dues paid, funds kind,
    /// statement figures and the dues an event creates. An absent detail reads as the empty one.
    /// </summary>
    private static bool SameDetail(LifecycleDetail? recorded, ReferenceModel.ModelDetail? expected)
    {
        LifecycleDetail actual = recorded ?? new LifecycleDetail();
        expected ??= new ReferenceModel.ModelDetail();
        return actual.StageBefore == expected.StageBefore && actual.StageAfter == expected.StageAfter && actual.DaysPastDue == expected.DaysPastDue
            && actual.PastDueMinor == expected.PastDue && actual.DepositMinor == expected.Deposit && actual.DuesPaidMinor == expected.DuesPaid
            && actual.FundsKind == expected.Kind && actual.StatementBalanceMinor == expected.StatementBalance
            && actual.MinimumPaymentMinor == expected.MinimumPayment && actual.DueAtUnixMs == expected.DueAt
            && actual.Dues.Select(d => (d.DueAtUnixMs, (Int128)d.AmountMinor)).SequenceEqual(expected.Dues);
    }

    private static string Describe(LifecycleDetail? detail) =>
        detail is not { } d ? "(no detail)" : $"[stage {d.StageBefore}->{d.StageAfter} dpd={d.DaysPastDue} pastDue={d.PastDueMinor} deposit={d.DepositMinor} " +
            $"duesPaid={d.DuesPaidMinor} kind={d.FundsKind} balance={d.StatementBalanceMinor} minimum={d.MinimumPaymentMinor} dueAt={d.DueAtUnixMs} " +
            $"dues={string.Join(";", d.Dues.Select(x => $"{x.DueAtUnixMs}:{x.AmountMinor}"))}]";

    private static string Describe(ReferenceModel.ModelDetail? d) =>
        d is null ? "(no detail)" : $"[stage {d.StageBefore}->{d.StageAfter} dpd={d.DaysPastDue} pastDue={d.PastDue} deposit={d.Deposit} " +
            $"duesPaid={d.DuesPaid} kind={d.Kind} balance={d.StatementBalance} minimum={d.MinimumPayment} dueAt={d.DueAt} " +
            $"dues={string.Join(";", d.Dues.Select(x => $"{x.DueAt}:{x.Amount}"))}]";

    private static void CompareAccounts(int seed, int index, ReferenceModel model, Ledger ledger)
    {
        Assert.Equal(model.Accounts.Count, ledger.AccountCount);
        foreach (Account account in ledger.Accounts)
        {
            Assert.True(model.Accounts.TryGetValue(account.Id, out var m), $"seed {seed} #{index}: ledger has account {account.Id}, model does not");
            AccountStatus status = m!.State switch
            {
                ReferenceModel.AccountState.Active => AccountStatus.Active,
                ReferenceModel.AccountState.Frozen => AccountStatus.Frozen,
                _ => AccountStatus.Closed,
            };
            long now = ledger.LastTimestampUnixMs;
            var actual = (account.CreditLimitMinor, account.TemporaryLimitMinor, account.TemporaryLimitExpiresAtUnixMs, account.HeldMinor, account.PostedMinor,
                (Int128)account.Available(now), account.Status, account.OpenAuthorizations, account.OvercapturePercent, CurrencyCode.Unpack(account.CurrencyCode));
            var expected = ((long)m.Limit, (long)m.Temporary, m.TemporaryExpiresAt, (long)m.Held, (long)m.Posted,
                ReferenceModel.Available(m, now), status, m.OpenHolds, (byte)m.Overcapture, m.Currency);
            Assert.True(expected == actual, $"seed {seed} #{index}: account {account.Id}\n  ledger {actual}\n  model  {expected}");

            AccountLifecycle life = account.Lifecycle ?? new AccountLifecycle();
            var actualLife = (life.Billing.Mode, life.Stage, life.DepositMinor,
                string.Join(";", life.Dues.Select(d => $"{d.DueDay}:{d.OpenMinor}:{d.Reminded}")),
                life.Billing.Mode == BillingMode.Statement ? EngineDays.DayOf(life.NextStatementAtUnixMs) : (int?)null);
            var expectedLife = (m.Life.Mode, m.Life.Stage, (long)m.Life.Deposit,
                string.Join(";", m.Life.Dues.Select(d => $"{d.Key}:{d.Value.Open}:{d.Value.Reminded}")), m.Life.NextStatementDay);
            Assert.True(expectedLife == actualLife, $"seed {seed} #{index}: lifecycle of account {account.Id}\n  ledger {actualLife}\n  model  {expectedLife}");
        }
        Assert.Equal(model.ClockOffsetMs, ledger.ClockOffsetMs);
    }

    private static void CompareAuthorizations(int seed, ReferenceModel model, Ledger ledger)
    {
        Assert.Equal(model.Authorizations.Count, ledger.AuthorizationCount);
        Assert.Equal(model.Authorizations.Values.Count(z => z.State == ReferenceModel.HoldState.Open), ledger.OpenAuthorizationCount);
        foreach (ReferenceModel.ModelAuthorization m in model.Authorizations.Values)
        {
            Assert.True(ledger.TryGetAuthorization(m.Id, out Authorization? z), $"seed {seed}: ledger lost authorization {m.Id}");
            AuthorizationState state = m.State switch
            {
                ReferenceModel.HoldState.Open => AuthorizationState.Open,
                ReferenceModel.HoldState.Closed => AuthorizationState.Closed,
                ReferenceModel.HoldState.Voided => AuthorizationState.Voided,
                _ => AuthorizationState.Expired,
            };
            var actual = (z!.AuthorizedMinor, z.HeldMinor, z.CapturedMinor, z.RefundedMinor, z.ExpiresAtUnixMs, z.State);
            var expected = ((long)m.Authorized, (long)m.Held, (long)m.Captured, (long)m.Refunded, m.ExpiresAt, state);
            Assert.True(expected == actual, $"seed {seed}: authorization {m.Id}\n  ledger {actual}\n  model  {expected}");
        }
    }

    internal static string Describe(in Command c) =>
        c.Type == CommandType.Tick
            ? "Tick"
            : $"{c.Type} req={c.RequestId} acct={c.AccountId ?? "-"} auth={c.AuthorizationId ?? "-"} amount={c.AmountMinor} ccy={c.Currency ?? "-"} " +
              $"mcc={c.Mcc} merchant={c.MerchantId ?? "-"} final={c.Final} expiresAt={c.ExpiresAtUnixMs} expiresIn={c.ExpiresInSeconds} " +
              $"overcapture={c.OvercapturePercent} reason={c.Reason ?? "-"} controls={c.Controls?.ToString() ?? "-"} billing={c.Billing?.ToString() ?? "-"} " +
              $"policy={c.Policy?.ToString() ?? "-"} kind={c.FundsKind} dues={(c.Dues is null ? "-" : string.Join(";", c.Dues.Select(d => $"{d.DueAtUnixMs}:{d.AmountMinor}")))}";

    private static string Describe(in ReferenceModel.ModelReply r) =>
        $"{r.Status} available={r.Available} held={r.Held} posted={r.Posted} seq={r.Sequence}{(r.Replayed ? " replayed" : "")}";

    private static string DescribeAccounts(in Command command, string? eventAccountId, ReferenceModel model, Ledger ledger)
    {
        string? accountId = command.AccountId ?? (eventAccountId is { Length: > 0 } ? eventAccountId : null);
        if (command.AuthorizationId is { } authorizationId && model.Authorizations.TryGetValue(authorizationId, out var z))
            accountId ??= z.AccountId;
        if (accountId is null) return "  (no account)";
        string modelView = model.Accounts.TryGetValue(accountId, out var m)
            ? $"limit={m.Limit} temp={m.Temporary}@{m.TemporaryExpiresAt} held={m.Held} posted={m.Posted} {m.State} open={m.OpenHolds} " +
              $"billing={m.Life.Mode} stage={m.Life.Stage} deposit={m.Life.Deposit} nextStatementDay={m.Life.NextStatementDay} " +
              $"dues={string.Join(";", m.Life.Dues.Select(d => $"{d.Key}:{d.Value.Open}:{d.Value.Reminded}"))}"
            : "absent";
        string ledgerView = ledger.TryGetAccount(accountId, out Account a)
            ? $"limit={a.CreditLimitMinor} temp={a.TemporaryLimitMinor}@{a.TemporaryLimitExpiresAtUnixMs} held={a.HeldMinor} posted={a.PostedMinor} {a.Status} open={a.OpenAuthorizations} " +
              (a.Lifecycle is { } l
                  ? $"billing={l.Billing.Mode} stage={l.Stage} deposit={l.DepositMinor} nextStatementDay={EngineDays.DayOf(l.NextStatementAtUnixMs)} " +
                    $"dues={string.Join(";", l.Dues.Select(d => $"{d.DueDay}:{d.OpenMinor}:{d.Reminded}"))}"
                  : "(no lifecycle)")
            : "absent";
        return $"  account {accountId} now:\n    ledger {ledgerView}\n    model  {modelView}";
    }

    private static string Context(IEnumerable<string> recent) => "  preceding commands:\n    " + string.Join("\n    ", recent);
}

/// <summary>
/// Lifecycle-heavy streams: more billing, plans, policies, customer funds and test clocks, and more time jumps of hours to
/// months, so every statement, reminder, threshold and cure rule is met many times per seed.
/// </summary>
public sealed class LifecycleModelTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(5)]
    [InlineData(13)]
    [InlineData(77)]
    [InlineData(2_026)]
    [InlineData(20_261_202)]
    public void Ledger_agrees_with_the_reference_model_on_a_long_lifecycle_heavy_stream_with_time_jumps_of_hours_to_months(int seed)
    {
        ModelBasedTests.Statistics statistics = ModelBasedTests.Run(seed, ModelBasedTests.CommandsPerSeed, unrestrictedHuge: false, lifecycleHeavy: true);
        output.WriteLine(statistics.ToString());
        ModelBasedTests.AssertReachesEveryRule(seed, statistics);
    }
}

/// <summary>The model-based stream with huge accounts allowed anywhere in int64 (it found the hold-release overflow).</summary>
public sealed class HugeAccountModelTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Ledger_agrees_with_the_reference_model_when_huge_accounts_reach_every_corner_of_int64(int seed)
    {
        ModelBasedTests.Run(seed, 100_000, unrestrictedHuge: true);
    }
}
