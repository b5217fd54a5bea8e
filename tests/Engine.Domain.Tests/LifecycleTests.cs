namespace Engine.Domain.Tests;

/// <summary>The credit lifecycle rules of docs/LIFECYCLE.md, one test per rule, with the engine clock moved across months.</summary>
public class LifecycleTests
{
    private const long Day = EngineDays.DayMs;
    /// <summary>Start of the UTC day of <see cref="LedgerHarness.T0"/> (2023-11-14).</summary>
    private static readonly long Day0 = EngineDays.StartOf(EngineDays.DayOf(LedgerHarness.T0));

    private static readonly BillingTerms Net30 = new() { Mode = BillingMode.Terms, PaymentTermsDays = 30 };

    private static LedgerHarness TermsAccount(string id = "acct-1", long limit = 1_000_000, BillingTerms? billing = null, LedgerOptions? options = null)
    {
        var h = new LedgerHarness(options) { Now = Day0 + Day / 2 };
        Assert.Equal(Status.Ok, h.Execute(Command.OpenAccount(h.NextRequestId(), id, "cust-" + id, "USD", limit, billing ?? Net30)).Status);
        return h;
    }

    private static AccountLifecycle Lifecycle(LedgerHarness h, string id = "acct-1") => h.AccountOf(id).Lifecycle!;

    private static List<LedgerEvent> TickAt(LedgerHarness h, long now)
    {
        h.Now = now;
        return h.Run(Command.Tick()).Events;
    }

    [Fact]
    public void A_tick_looks_at_no_more_than_LifecycleTimersPerTickMax_entries_and_the_rest_follow_on_later_ticks_in_order()
    {
        var h = new LedgerHarness(new LedgerOptions { LifecycleTimersPerTickMax = 3 }) { Now = Day0 + Day / 2 };
        for (int n = 0; n < 10; n++)
        {
            string id = $"acct-{n}";
            h.Execute(Command.OpenAccount(h.NextRequestId(), id, "c", "USD", 1_000_000, Net30));
            Post(h, 100, id);
            // Nine pay at once: their timer entries come up on the reminder day with nothing to do.
            if (n != 7) h.Execute(Command.Repay(h.NextRequestId(), id, 100));
        }
        long reminderDay = Day0 + 27 * Day;

        var reminders = new List<LedgerEvent>();
        int ticks = 0;
        for (long now = reminderDay + Day / 2; reminders.Count == 0 && ticks < 10; now += 100, ticks++) reminders.AddRange(TickAt(h, now));

        // Ten entries, three a tick: the late account's reminder comes on a later tick, stamped with its own date.
        LedgerEvent reminder = Assert.Single(reminders);
        Assert.Equal("acct-7", reminder.AccountId);
        Assert.Equal(EventType.DueSoon, reminder.Type);
        Assert.InRange(ticks, 2, 4);
        Assert.True(reminder.TimestampUnixMs <= reminderDay + Day / 2, "stamped with its date of interest, not the later tick's time");
        AssertReplaysAndSnapshots(h);
    }

    /// <summary>Counts events and keeps none: what a tick allocates is then the ledger's own doing.</summary>
    private sealed class CountingSink : IEventSink
    {
        public int Count;
        public readonly Dictionary<EventType, int> ByType = [];
        public void OnEvent(in LedgerEvent ledgerEvent)
        {
            Count++;
            ByType[ledgerEvent.Type] = ByType.GetValueOrDefault(ledgerEvent.Type) + 1;
        }
    }

    /// <summary>200 TERMS accounts, 100 each posted on day 0 and never paid: reminders on day 27, WATCH on day 45.</summary>
    private static LedgerHarness LateTermsAccounts()
    {
        var h = new LedgerHarness { Now = Day0 + Day / 2 };
        for (int n = 0; n < 200; n++)
        {
            string id = $"acct-{n}";
            h.Execute(Command.OpenAccount(h.NextRequestId(), id, "c", "USD", 1_000_000, Net30));
            Post(h, 100, id);
        }
        return h;
    }

    [Fact]
    public void Reminders_and_stage_changes_of_a_tick_allocate_nothing_on_the_decide_thread()
    {
        // The same month once on another ledger first, so every path of it has run (JIT, static data) before measuring.
        long reminders = Day0 + 27 * Day + Day / 2, watch = Day0 + 45 * Day + Day / 2;
        LedgerHarness warm = LateTermsAccounts();
        warm.Ledger.RunLifecycle(reminders, new CountingSink());
        warm.Ledger.RunLifecycle(watch, new CountingSink());

        LedgerHarness h = LateTermsAccounts();
        var sink = new CountingSink();
        sink.ByType[EventType.DueSoon] = 0;
        sink.ByType[EventType.DelinquencyStageChanged] = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        h.Ledger.RunLifecycle(reminders, sink);
        h.Ledger.RunLifecycle(watch, sink);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(200, sink.ByType[EventType.DueSoon]);
        Assert.Equal(200, sink.ByType[EventType.DelinquencyStageChanged]);
        Assert.Equal(0, allocated);
        Assert.Equal(DelinquencyStage.Watch, Lifecycle(h, "acct-0").Stage);
    }

    private static void Post(LedgerHarness h, long amount, string id = "acct-1") =>
        Assert.Equal(Status.Ok, h.Execute(Command.ForcePost(h.NextRequestId(), id, amount)).Status);

    /// <summary>Replays every event through the codec into a fresh ledger, and round-trips a snapshot: same state both ways.</summary>
    private static void AssertReplaysAndSnapshots(LedgerHarness h)
    {
        h.Ledger.CheckInvariants();
        Ledger replica = Replay(h);
        Assert.Equal(h.Ledger.ComputeDigest(), replica.ComputeDigest());
        var stream = new MemoryStream();
        h.Ledger.WriteSnapshot(stream);
        stream.Position = 0;
        Ledger restored = Ledger.ReadSnapshot(stream, h.Ledger.Options);
        restored.CheckInvariants();
        Assert.Equal(h.Ledger.ComputeDigest(), restored.ComputeDigest());
    }

    // ----- billing and dues -----

    [Fact]
    public void A_terms_posting_is_due_payment_terms_days_after_its_engine_day()
    {
        LedgerHarness h = TermsAccount();
        h.Authorize("auth-1", "acct-1", 400);
        h.Execute(Command.Capture(h.NextRequestId(), "auth-1", 400, final: true));

        Due due = Assert.Single(Lifecycle(h).Dues);
        Assert.Equal(EngineDays.DayOf(Day0) + 30, due.DueDay);
        Assert.Equal(400, due.AmountMinor);
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void Dues_of_one_account_due_on_the_same_day_merge()
    {
        LedgerHarness h = TermsAccount();
        Post(h, 100);
        h.Now += 3_600_000;
        Post(h, 250);
        h.Now += Day;
        Post(h, 50);

        DueList dues = Lifecycle(h).Dues;
        Assert.Equal(2, dues.Count);
        Assert.Equal(350, dues[0].AmountMinor);
        Assert.Equal(50, dues[1].AmountMinor);
        Assert.Equal(dues[0].DueDay + 1, dues[1].DueDay);
    }

    [Fact]
    public void A_payment_pays_the_oldest_due_first()
    {
        LedgerHarness h = TermsAccount();
        Post(h, 100);
        h.Now += Day;
        Post(h, 200);
        h.Now += Day;
        Post(h, 300);

        LedgerEvent repaid = h.Single(Command.Repay(h.NextRequestId(), "acct-1", 250));

        Assert.Equal(250, repaid.Lifecycle!.Value.DuesPaidMinor);
        DueList dues = Lifecycle(h).Dues;
        Assert.Equal(2, dues.Count); // the 100 due is gone, the 200 due has 50 left
        Assert.Equal(50, dues[0].OpenMinor);
        Assert.Equal(300, dues[1].OpenMinor);
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void A_payment_beyond_all_dues_lowers_posted_into_a_credit_balance()
    {
        LedgerHarness h = TermsAccount();
        Post(h, 100);
        LedgerEvent repaid = h.Single(Command.Repay(h.NextRequestId(), "acct-1", 150));
        Assert.Equal(100, repaid.Lifecycle!.Value.DuesPaidMinor);
        Assert.Equal(-50, repaid.PostedMinor);
        Assert.Empty(Lifecycle(h).Dues);
    }

    [Fact]
    public void Open_dues_never_exceed_posted_a_refund_shrinks_the_newest_due_first()
    {
        LedgerHarness h = TermsAccount();
        Post(h, 100);
        h.Now += Day;
        Post(h, 200);

        h.Execute(Command.Refund(h.NextRequestId(), "acct-1", 250));

        Due due = Assert.Single(Lifecycle(h).Dues);
        Assert.Equal(50, due.OpenMinor);
        Assert.Equal(EngineDays.DayOf(Day0) + 30, due.DueDay);
        Assert.Equal(50, h.AccountOf("acct-1").PostedMinor);
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void A_terms_posting_covered_by_a_credit_balance_creates_no_due()
    {
        LedgerHarness h = TermsAccount();
        h.Execute(Command.TopUp(h.NextRequestId(), "acct-1", 500, FundsKind.Prepaid));
        Post(h, 200);
        Assert.Empty(Lifecycle(h).Dues);
        Post(h, 400);
        Assert.Equal(100, Assert.Single(Lifecycle(h).Dues).OpenMinor);
    }

    [Fact]
    public void Schedule_dues_records_a_plan_against_what_is_posted_and_posts_nothing()
    {
        var h = new LedgerHarness { Now = Day0 };
        h.Open("loan-1", 0);
        Post(h, 1_200, "loan-1"); // the disbursement
        ScheduledDue[] plan = [.. Enumerable.Range(1, 12).Select(m => new ScheduledDue(Day0 + m * 30 * Day, 100))];

        LedgerEvent scheduled = h.Single(Command.ScheduleDues(h.NextRequestId(), "loan-1", plan));

        Assert.Equal(EventType.DuesScheduled, scheduled.Type);
        Assert.Equal(1_200, scheduled.AmountMinor);
        Assert.Equal(1_200, scheduled.PostedMinor);
        Assert.Equal(12, Lifecycle(h, "loan-1").Dues.Count);
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void Schedule_dues_beyond_what_is_posted_and_not_yet_scheduled_is_refused()
    {
        var h = new LedgerHarness { Now = Day0 };
        h.Open("loan-1", 0);
        Post(h, 1_000, "loan-1");
        h.Execute(Command.ScheduleDues(h.NextRequestId(), "loan-1", [new ScheduledDue(Day0 + 30 * Day, 600)]));

        h.AssertDeclined(Command.ScheduleDues(h.NextRequestId(), "loan-1", [new ScheduledDue(Day0 + 60 * Day, 401)]), Status.ScheduleExceedsPosted);

        Assert.Single(Lifecycle(h, "loan-1").Dues);
        Assert.Equal(Status.Ok, h.Execute(Command.ScheduleDues(h.NextRequestId(), "loan-1", [new ScheduledDue(Day0 + 60 * Day, 400)])).Status);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(500, 500)]          // capped at the balance
    [InlineData(10_000, 1_000)]     // the floor
    [InlineData(100_000, 5_000)]    // 5 %
    public void Minimum_payment_is_the_larger_of_floor_and_percent_capped_at_the_balance(long balance, long minimum) =>
        Assert.Equal(minimum, new BillingTerms { Mode = BillingMode.Statement, StatementDay = 1 }.MinimumPayment(balance));

    private static readonly BillingTerms Statement5th = new() { Mode = BillingMode.Statement, StatementDay = 5, GraceDays = 25 };

    private static long Utc(int year, int month, int day) => (long)(new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalMilliseconds;

    [Fact]
    public void A_statement_closes_on_statement_day_and_its_minimum_payment_becomes_a_due()
    {
        LedgerHarness h = TermsAccount(billing: Statement5th);
        Post(h, 100_000);
        Assert.Empty(Lifecycle(h).Dues); // STATEMENT postings are not dues by themselves

        LedgerEvent closed = Assert.Single(TickAt(h, Utc(2023, 12, 5) + 1_000));

        Assert.Equal(EventType.StatementClosed, closed.Type);
        Assert.Equal(Utc(2023, 12, 5), closed.TimestampUnixMs);
        Assert.Equal(100_000, closed.Lifecycle!.Value.StatementBalanceMinor);
        Assert.Equal(5_000, closed.Lifecycle!.Value.MinimumPaymentMinor);
        Assert.Equal(Utc(2023, 12, 30), closed.Lifecycle!.Value.DueAtUnixMs);
        Due due = Assert.Single(Lifecycle(h).Dues);
        Assert.Equal(5_000, due.AmountMinor);
        Assert.Equal(Utc(2024, 1, 5), Lifecycle(h).NextStatementAtUnixMs);
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void Past_due_amounts_unpaid_at_closing_are_added_to_the_new_minimum_payment()
    {
        LedgerHarness h = TermsAccount(billing: Statement5th, options: new LedgerOptions { DelinquencyPolicy = new DelinquencyPolicy { RemindBeforeDueDays = 0, WatchAtDays = 0, FreezeAtDays = 0, ChargeOffAtDays = 0 } });
        Post(h, 100_000);
        TickAt(h, Utc(2023, 12, 5));
        h.Now = Utc(2023, 12, 20);
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 2_000)); // 3,000 of the 5,000 minimum stay unpaid

        LedgerEvent closed = Assert.Single(TickAt(h, Utc(2024, 1, 5)));

        Assert.Equal(98_000, closed.Lifecycle!.Value.StatementBalanceMinor);
        Assert.Equal(4_900 + 3_000, closed.Lifecycle!.Value.MinimumPaymentMinor);
        Assert.Equal(3_000, closed.Lifecycle!.Value.PastDueMinor);
        DueList dues = Lifecycle(h).Dues;
        Assert.Equal([3_000L, 4_900L], dues.Select(d => d.OpenMinor));
    }

    // ----- delinquency -----

    private static readonly long DueDayStart = Day0 + 30 * Day;

    /// <summary>A net-30 account with one 10,000 due on <see cref="DueDayStart"/>.</summary>
    private static LedgerHarness WithOneDue()
    {
        LedgerHarness h = TermsAccount();
        Post(h, 10_000);
        return h;
    }

    [Fact]
    public void Due_soon_is_recorded_remind_before_due_days_before_the_due_date()
    {
        LedgerHarness h = WithOneDue();
        Assert.Empty(TickAt(h, DueDayStart - 3 * Day - 1));

        LedgerEvent dueSoon = Assert.Single(TickAt(h, DueDayStart - 3 * Day + 5));

        Assert.Equal(EventType.DueSoon, dueSoon.Type);
        Assert.Equal(10_000, dueSoon.AmountMinor);
        Assert.Equal(DueDayStart, dueSoon.Lifecycle!.Value.DueAtUnixMs);
        Assert.Empty(TickAt(h, DueDayStart + Day / 2)); // once per due
    }

    [Fact]
    public void Days_past_due_count_whole_days_since_the_oldest_unpaid_due()
    {
        LedgerHarness h = WithOneDue();
        Assert.Equal(0, Lifecycle(h).DaysPastDue(EngineDays.DayOf(DueDayStart)));
        Assert.Equal(1, Lifecycle(h).DaysPastDue(EngineDays.DayOf(DueDayStart + Day)));
        Assert.Equal(10_000, Lifecycle(h).PastDueMinor(EngineDays.DayOf(DueDayStart + Day)));
        Assert.Equal(0, Lifecycle(h).PastDueMinor(EngineDays.DayOf(DueDayStart)));
    }

    [Fact]
    public void Watch_starts_at_15_days_past_due()
    {
        LedgerHarness h = WithOneDue();
        TickAt(h, DueDayStart - 2 * Day); // the reminder
        Assert.Empty(TickAt(h, DueDayStart + 15 * Day - 1));

        LedgerEvent watch = Assert.Single(TickAt(h, DueDayStart + 15 * Day));

        Assert.Equal(EventType.DelinquencyStageChanged, watch.Type);
        Assert.Equal(DelinquencyStage.Current, watch.Lifecycle!.Value.StageBefore);
        Assert.Equal(DelinquencyStage.Watch, watch.Lifecycle!.Value.StageAfter);
        Assert.Equal(15, watch.Lifecycle!.Value.DaysPastDue);
        Assert.Equal(10_000, watch.Lifecycle!.Value.PastDueMinor);
        Assert.Equal(Status.Ok, h.Execute(Command.Authorize(h.NextRequestId(), "acct-1", 10, "USD")).Status); // WATCH does not decline
    }

    [Fact]
    public void Freeze_at_30_days_past_due_declines_authorizations_and_still_posts_captures_and_repayments()
    {
        LedgerHarness h = WithOneDue();
        h.Now = DueDayStart + 25 * Day;
        h.Authorize("auth-open", "acct-1", 100); // an authorization approved before the freeze
        List<LedgerEvent> events = TickAt(h, DueDayStart + 30 * Day + 10);

        LedgerEvent frozen = Assert.Single(events, e => e.Type == EventType.DelinquencyStageChanged && e.Lifecycle!.Value.StageAfter == DelinquencyStage.FrozenDelinquent);
        Assert.Equal(30, frozen.Lifecycle!.Value.DaysPastDue);
        Assert.Equal(AccountStatus.Active, h.AccountOf("acct-1").Status); // the manual status is untouched
        h.AssertDeclined(Command.Authorize(h.NextRequestId(), "acct-1", 10, "USD"), Status.AccountFrozen);
        Assert.Equal(Status.Ok, h.Execute(Command.Capture(h.NextRequestId(), "auth-open", 100, final: true)).Status);
        Assert.Equal(Status.Ok, h.Execute(Command.ForcePost(h.NextRequestId(), "acct-1", 10)).Status);
        Assert.Equal(Status.Ok, h.Execute(Command.Refund(h.NextRequestId(), "acct-1", 10)).Status);
        Assert.Equal(Status.Ok, h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1)).Status);
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void An_account_frozen_for_delinquency_stays_frozen_for_authorizations_after_replay_and_snapshot_and_a_cure_lifts_it_everywhere()
    {
        LedgerHarness h = WithOneDue();
        TickAt(h, DueDayStart + 30 * Day + 10);
        h.AssertDeclined(Command.Authorize(h.NextRequestId(), "acct-1", 10, "USD"), Status.AccountFrozen);

        // A ledger rebuilt from the events and one read from a snapshot decide the same: ACCOUNT_FROZEN.
        Ledger replayed = Replay(h);
        var stream = new MemoryStream();
        h.Ledger.WriteSnapshot(stream);
        stream.Position = 0;
        Ledger restored = Ledger.ReadSnapshot(stream, h.Ledger.Options);
        foreach (Ledger ledger in new[] { replayed, restored })
        {
            var other = new LedgerHarness(ledger) { Now = h.Now };
            other.AssertDeclined(Command.Authorize("auth-elsewhere", "acct-1", 10, "USD"), Status.AccountFrozen);
        }

        // Paying what is past due cures the account: authorizations are approved again, here and after replay.
        Assert.Equal(Status.Ok, h.Execute(Command.Repay(h.NextRequestId(), "acct-1", Lifecycle(h).PastDueMinor(EngineDays.DayOf(h.Now)))).Status);
        Assert.Equal(DelinquencyStage.Current, Lifecycle(h).Stage);
        Assert.Equal(Status.Ok, h.Execute(Command.Authorize(h.NextRequestId(), "acct-1", 10, "USD")).Status);
        var cured = new LedgerHarness(Replay(h)) { Now = h.Now };
        Assert.Equal(Status.Ok, cured.Execute(Command.Authorize("auth-after-cure", "acct-1", 10, "USD")).Status);
    }

    [Fact]
    public void The_start_up_warm_up_plays_every_lifecycle_path_a_tick_takes_on_a_scratch_ledger()
    {
        IReadOnlyDictionary<EventType, long> played = LedgerWarmup.Run(accounts: 3);
        foreach (EventType type in new[] { EventType.AccountOpened, EventType.Captured, EventType.ForcePosted, EventType.Repaid, EventType.Declined,
                                           EventType.StatementClosed, EventType.DueSoon, EventType.DelinquencyStageChanged })
            Assert.True(played.GetValueOrDefault(type) > 0, $"the warm-up played no {type}");
        // WATCH and FROZEN_DELINQUENT at least, for each of the three TERMS accounts.
        Assert.True(played[EventType.DelinquencyStageChanged] >= 2 * 3, $"{played[EventType.DelinquencyStageChanged]} stage changes");
    }

    /// <summary>A fresh ledger fed every event of <paramref name="h"/> through the codec (invariants checked).</summary>
    private static Ledger Replay(LedgerHarness h)
    {
        var replica = new Ledger(h.Ledger.Options);
        var buffer = new byte[EventCodec.EncodedSizeMax];
        foreach (LedgerEvent e in h.Sink.Events)
        {
            int length = EventCodec.Encode(e, buffer);
            EventCodec.Decode(buffer.AsSpan(0, length), out LedgerEvent decoded);
            replica.Apply(decoded);
        }
        replica.CheckInvariants();
        return replica;
    }

    [Fact]
    public void A_late_tick_plays_each_threshold_in_order_at_its_own_time()
    {
        LedgerHarness h = WithOneDue();

        List<LedgerEvent> events = TickAt(h, DueDayStart + 200 * Day);

        Assert.Equal([EventType.DueSoon, EventType.DelinquencyStageChanged, EventType.DelinquencyStageChanged, EventType.DelinquencyStageChanged], events.Select(e => e.Type));
        Assert.Equal([DueDayStart - 3 * Day, DueDayStart + 15 * Day, DueDayStart + 30 * Day, DueDayStart + 180 * Day], events.Select(e => e.TimestampUnixMs));
        Assert.Equal([DelinquencyStage.Watch, DelinquencyStage.FrozenDelinquent, DelinquencyStage.ChargedOff], events.Skip(1).Select(e => e.Lifecycle!.Value.StageAfter));
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void A_late_tick_plays_overdue_dates_of_interest_in_date_order_across_accounts_even_after_a_date_moved_later()
    {
        var h = new LedgerHarness { Now = Day0 + Day / 2 };
        h.Execute(Command.OpenAccount(h.NextRequestId(), "acct-a", "c", "USD", 1_000_000, Net30));
        h.Execute(Command.OpenAccount(h.NextRequestId(), "acct-b", "c", "USD", 1_000_000, Net30));
        h.Open("acct-c", 1_000_000);
        Post(h, 100, "acct-a");                                   // a reminder on day +27 …
        h.Execute(Command.Repay(h.NextRequestId(), "acct-a", 100)); // … that is not due any more
        h.Now += Day;
        Post(h, 100, "acct-b");                                   // acct-b: reminder on day +28
        h.Now += Day;
        Post(h, 100, "acct-a");                                   // acct-a: reminder on day +29
        h.Now = Day0 + 29 * Day + Day / 2;
        Post(h, 1, "acct-c");                                     // engine time moves past both before any tick

        List<LedgerEvent> events = TickAt(h, h.Now + 1_000);

        Assert.Equal(["acct-b", "acct-a"], events.Select(e => e.AccountId)); // day +28 before day +29
        Assert.All(events, e => Assert.Equal(EventType.DueSoon, e.Type));
        Assert.All(events, e => Assert.Equal(Day0 + 29 * Day + Day / 2, e.TimestampUnixMs)); // overdue: stamped at the last event's time
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void Cure_lifts_the_automatic_freeze_when_every_past_due_due_is_paid()
    {
        LedgerHarness h = WithOneDue();
        TickAt(h, DueDayStart + 31 * Day);
        Assert.Equal(DelinquencyStage.FrozenDelinquent, Lifecycle(h).Stage);

        LedgerEvent partial = h.Single(Command.Repay(h.NextRequestId(), "acct-1", 9_999));
        Assert.Equal(DelinquencyStage.FrozenDelinquent, partial.Lifecycle!.Value.StageAfter);
        LedgerEvent cure = h.Single(Command.Repay(h.NextRequestId(), "acct-1", 1));

        Assert.Equal(DelinquencyStage.FrozenDelinquent, cure.Lifecycle!.Value.StageBefore);
        Assert.Equal(DelinquencyStage.Current, cure.Lifecycle!.Value.StageAfter);
        Assert.Equal(Status.Ok, h.Execute(Command.Authorize(h.NextRequestId(), "acct-1", 10, "USD")).Status);
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void Cure_never_lifts_a_manual_freeze_and_unfreeze_never_lifts_the_delinquency_freeze()
    {
        LedgerHarness h = WithOneDue();
        h.Now = DueDayStart + 5 * Day;
        h.Execute(Command.Freeze(h.NextRequestId(), "acct-1", "fraud review"));
        TickAt(h, DueDayStart + 31 * Day);
        h.Execute(Command.Unfreeze(h.NextRequestId(), "acct-1"));
        h.AssertDeclined(Command.Authorize(h.NextRequestId(), "acct-1", 10, "USD"), Status.AccountFrozen); // still frozen for delinquency

        h.Execute(Command.Freeze(h.NextRequestId(), "acct-1", "again"));
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 10_000));
        Assert.Equal(DelinquencyStage.Current, Lifecycle(h).Stage);
        h.AssertDeclined(Command.Authorize(h.NextRequestId(), "acct-1", 10, "USD"), Status.AccountFrozen); // still frozen manually

        h.Execute(Command.Unfreeze(h.NextRequestId(), "acct-1"));
        Assert.Equal(Status.Ok, h.Execute(Command.Authorize(h.NextRequestId(), "acct-1", 10, "USD")).Status);
    }

    [Fact]
    public void Charged_off_does_not_cure_by_itself_and_still_accepts_repayments()
    {
        LedgerHarness h = WithOneDue();
        TickAt(h, DueDayStart + 181 * Day);
        Assert.Equal(DelinquencyStage.ChargedOff, Lifecycle(h).Stage);

        LedgerEvent repaid = h.Single(Command.Repay(h.NextRequestId(), "acct-1", 10_000));

        Assert.Equal(Status.Ok, repaid.Status);
        Assert.Equal(DelinquencyStage.ChargedOff, Lifecycle(h).Stage);
        h.AssertDeclined(Command.Authorize(h.NextRequestId(), "acct-1", 10, "USD"), Status.AccountFrozen);
    }

    [Fact]
    public void A_threshold_of_zero_is_disabled_and_an_account_policy_overrides_the_engine_default()
    {
        LedgerHarness h = WithOneDue();
        h.Execute(Command.SetDelinquencyPolicy(h.NextRequestId(), "acct-1", new DelinquencyPolicy { RemindBeforeDueDays = 0, WatchAtDays = 0, FreezeAtDays = 10, ChargeOffAtDays = 0 }));

        List<LedgerEvent> events = TickAt(h, DueDayStart + 400 * Day);

        LedgerEvent only = Assert.Single(events);
        Assert.Equal(DelinquencyStage.FrozenDelinquent, only.Lifecycle!.Value.StageAfter);
        Assert.Equal(DueDayStart + 10 * Day, only.TimestampUnixMs);
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void A_tick_with_nothing_due_emits_nothing_and_touches_only_due_accounts()
    {
        // Room for all 1,000 timer entries in one tick (the default looks at fewer per tick).
        var h = new LedgerHarness(new LedgerOptions { LifecycleTimersPerTickMax = 2_000 }) { Now = Day0 };
        for (int i = 0; i < 1_000; i++)
        {
            h.Execute(Command.OpenAccount(h.NextRequestId(), $"a-{i}", "c", "USD", 1_000_000, Net30));
            Post(h, 100, $"a-{i}");
        }
        int timers = h.Ledger.LifecycleTimerCount;
        Assert.Empty(TickAt(h, Day0 + 10 * Day));
        Assert.Equal(timers, h.Ledger.LifecycleTimerCount);
        h.Execute(Command.Repay(h.NextRequestId(), "a-7", 100)); // a-7 has nothing due any more

        List<LedgerEvent> reminders = TickAt(h, Day0 + 27 * Day);

        Assert.Equal(999, reminders.Count);
        Assert.All(reminders, e => Assert.Equal(EventType.DueSoon, e.Type));
        Assert.DoesNotContain(reminders, e => e.AccountId == "a-7");
    }

    // ----- customer funds -----

    [Fact]
    public void A_prepaid_top_up_lowers_posted_pays_past_due_dues_first_and_cures()
    {
        LedgerHarness h = WithOneDue();
        TickAt(h, DueDayStart + 16 * Day);
        Assert.Equal(DelinquencyStage.Watch, Lifecycle(h).Stage);

        LedgerEvent topUp = h.Single(Command.TopUp(h.NextRequestId(), "acct-1", 15_000, FundsKind.Prepaid));

        Assert.Equal(EventType.ToppedUp, topUp.Type);
        Assert.Equal(10_000, topUp.Lifecycle!.Value.DuesPaidMinor);
        Assert.Equal(DelinquencyStage.Current, topUp.Lifecycle!.Value.StageAfter);
        Assert.Equal(-5_000, topUp.PostedMinor);
        Assert.Equal(1_005_000, topUp.AvailableMinor); // a credit balance raises available
    }

    [Fact]
    public void A_deposit_is_held_never_spendable_and_never_counted_in_available()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);

        LedgerEvent deposit = h.Single(Command.TopUp(h.NextRequestId(), "acct-1", 5_000, FundsKind.Deposit));

        Assert.Equal(5_000, deposit.Lifecycle!.Value.DepositMinor);
        Assert.Equal(1_000, deposit.AvailableMinor);
        h.AssertDeclined(Command.Authorize(h.NextRequestId(), "acct-1", 1_001, "USD"), Status.InsufficientCredit);
    }

    [Fact]
    public void Releasing_more_than_the_deposit_is_refused()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Execute(Command.TopUp(h.NextRequestId(), "acct-1", 500, FundsKind.Deposit));

        h.AssertDeclined(Command.ReleaseDeposit(h.NextRequestId(), "acct-1", 501), Status.AmountExceedsDeposit);
        LedgerEvent released = h.Single(Command.ReleaseDeposit(h.NextRequestId(), "acct-1", 500));

        Assert.Equal(EventType.DepositReleased, released.Type);
        Assert.Equal(0, released.Lifecycle!.Value.DepositMinor);
    }

    [Fact]
    public void Applying_a_deposit_pays_dues_and_is_refused_beyond_the_deposit_or_what_is_owed()
    {
        LedgerHarness h = WithOneDue();
        h.Execute(Command.TopUp(h.NextRequestId(), "acct-1", 20_000, FundsKind.Deposit));

        h.AssertDeclined(Command.ApplyDeposit(h.NextRequestId(), "acct-1", 10_001), Status.AmountExceedsOwed);
        LedgerEvent applied = h.Single(Command.ApplyDeposit(h.NextRequestId(), "acct-1", 4_000));
        Assert.Equal(EventType.DepositApplied, applied.Type);
        Assert.Equal(6_000, applied.PostedMinor);
        Assert.Equal(16_000, applied.Lifecycle!.Value.DepositMinor);
        Assert.Equal(4_000, applied.Lifecycle!.Value.DuesPaidMinor);
        h.Execute(Command.ReleaseDeposit(h.NextRequestId(), "acct-1", 15_000));
        h.AssertDeclined(Command.ApplyDeposit(h.NextRequestId(), "acct-1", 1_001), Status.AmountExceedsDeposit);
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void A_pay_out_refunds_a_credit_balance_and_is_refused_beyond_it()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Execute(Command.TopUp(h.NextRequestId(), "acct-1", 300, FundsKind.Prepaid));

        h.AssertDeclined(Command.PayOut(h.NextRequestId(), "acct-1", 301), Status.AmountExceedsCreditBalance);
        LedgerEvent paidOut = h.Single(Command.PayOut(h.NextRequestId(), "acct-1", 300));

        Assert.Equal(EventType.PaidOut, paidOut.Type);
        Assert.Equal(0, paidOut.PostedMinor);
        h.AssertDeclined(Command.PayOut(h.NextRequestId(), "acct-1", 1), Status.AmountExceedsCreditBalance);
    }

    [Fact]
    public void Closing_an_account_that_holds_a_deposit_is_refused()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Execute(Command.TopUp(h.NextRequestId(), "acct-1", 1, FundsKind.Deposit));

        h.AssertDeclined(Command.CloseAccount(h.NextRequestId(), "acct-1"), Status.AccountHasBalance);
        h.Execute(Command.ReleaseDeposit(h.NextRequestId(), "acct-1", 1));
        Assert.Equal(Status.Ok, h.Execute(Command.CloseAccount(h.NextRequestId(), "acct-1")).Status);
    }

    [Fact]
    public void Overflow_of_the_deposit_is_refused_and_changes_nothing()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Execute(Command.TopUp(h.NextRequestId(), "acct-1", long.MaxValue, FundsKind.Deposit));
        h.AssertDeclined(Command.TopUp(h.NextRequestId(), "acct-1", 1, FundsKind.Deposit), Status.ArithmeticOverflow);
        Assert.Equal(long.MaxValue, Lifecycle(h).DepositMinor);
    }

    [Fact]
    public void Overflow_of_posted_or_available_by_a_prepaid_top_up_is_refused_and_changes_nothing()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 0);
        h.Execute(Command.TopUp(h.NextRequestId(), "acct-1", long.MaxValue, FundsKind.Prepaid)); // available = MaxValue
        h.AssertDeclined(Command.TopUp(h.NextRequestId(), "acct-1", 1, FundsKind.Prepaid), Status.ArithmeticOverflow);
        Assert.Equal(-long.MaxValue, h.AccountOf("acct-1").PostedMinor);

        var big = new LedgerHarness();
        big.Open("acct-2", long.MaxValue);
        big.AssertDeclined(Command.TopUp(big.NextRequestId(), "acct-2", 10, FundsKind.Prepaid), Status.ArithmeticOverflow); // available would pass int64
        Assert.Equal(0, big.AccountOf("acct-2").PostedMinor);
    }

    [Fact]
    public void Overflow_of_available_by_an_applied_deposit_is_refused_and_changes_nothing()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", long.MaxValue);
        Post(h, 1_000);
        Assert.Equal(Status.Ok, h.Execute(Command.SetTemporaryLimit(h.NextRequestId(), "acct-1", 1_000, h.Now + 3_600_000)).Status); // available = MaxValue
        h.Execute(Command.TopUp(h.NextRequestId(), "acct-1", 1_000, FundsKind.Deposit));

        h.AssertDeclined(Command.ApplyDeposit(h.NextRequestId(), "acct-1", 1), Status.ArithmeticOverflow); // available would be MaxValue + 1

        Assert.Equal(1_000, h.AccountOf("acct-1").PostedMinor);
        Assert.Equal(1_000, Lifecycle(h).DepositMinor);
        h.Ledger.CheckInvariants();
    }

    [Fact]
    public void A_posting_merged_into_a_mostly_paid_due_whose_total_would_pass_int64_keeps_the_open_amount()
    {
        var h = new LedgerHarness { Now = Day0 + Day / 2 };
        h.Execute(Command.OpenAccount(h.NextRequestId(), "acct-1", "c", "USD", 0, Net30));
        Post(h, long.MaxValue - 10);
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", long.MaxValue - 20)); // 10 left open of a due of MaxValue − 10

        Post(h, long.MaxValue - 20);                                               // same due day: amount + paid would pass int64

        Due due = Assert.Single(Lifecycle(h).Dues);
        Assert.Equal(long.MaxValue - 10, due.OpenMinor);
        Assert.Equal(long.MaxValue - 10, h.AccountOf("acct-1").PostedMinor);
        AssertReplaysAndSnapshots(h);
    }

    [Fact]
    public void Overflow_of_a_scheduled_plan_total_is_refused()
    {
        var h = new LedgerHarness();
        h.Open("loan-1", 0);
        Post(h, long.MaxValue, "loan-1");
        h.AssertDeclined(Command.ScheduleDues(h.NextRequestId(), "loan-1", [new ScheduledDue(Day0 + Day, long.MaxValue), new ScheduledDue(Day0 + 2 * Day, long.MaxValue)]), Status.ScheduleExceedsPosted);
        Assert.Null(h.AccountOf("loan-1").Lifecycle);
    }

    // ----- test clock -----

    [Fact]
    public void Advance_clock_moves_engine_time_forward_and_plays_what_is_due_in_between_in_order()
    {
        LedgerHarness h = WithOneDue();
        long wall = h.Now;

        (Reply reply, List<LedgerEvent> events) = h.Run(Command.AdvanceClock(h.NextRequestId(), 60 * Day));

        Assert.Equal(EventType.ClockAdvanced, events[0].Type);
        Assert.Equal(events[0].Sequence, reply.Sequence);
        Assert.Equal(wall, events[0].TimestampUnixMs);
        Assert.Equal([EventType.ClockAdvanced, EventType.DueSoon, EventType.DelinquencyStageChanged, EventType.DelinquencyStageChanged], events.Select(e => e.Type));
        Assert.Empty(TickAt(h, wall)); // the wall clock did not move; engine time did, and nothing is left due
        Assert.Equal(DelinquencyStage.FrozenDelinquent, Lifecycle(h).Stage);
        Assert.Equal(60 * Day, h.Ledger.ClockOffsetMs);
        LedgerEvent post = h.Single(Command.ForcePost(h.NextRequestId(), "acct-1", 1));
        Assert.Equal(wall + 60 * Day, post.TimestampUnixMs);
        AssertReplaysAndSnapshots(h);
    }

    // ----- validation -----

    [Theory]
    [InlineData("statement_day")]
    [InlineData("payment_terms_days")]
    [InlineData("min_payment_percent")]
    public void Bad_billing_settings_are_refused_naming_the_field(string field)
    {
        BillingTerms billing = field switch
        {
            "statement_day" => new BillingTerms { Mode = BillingMode.Statement, StatementDay = 29 },
            "payment_terms_days" => new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = -1 },
            _ => new BillingTerms { Mode = BillingMode.Statement, StatementDay = 1, MinPaymentPercent = 101 },
        };
        Assert.Equal(field, CommandValidator.Validate(Command.SetBillingTerms("r", "a", billing))?.Field);
        Assert.Equal(field, CommandValidator.Validate(Command.OpenAccount("r", "a", "c", "USD", 1, billing))?.Field);
    }

    [Fact]
    public void Bad_lifecycle_commands_are_refused_naming_the_field()
    {
        Assert.Equal("dues", CommandValidator.Validate(Command.ScheduleDues("r", "a", []))?.Field);
        Assert.Equal("dues", CommandValidator.Validate(Command.ScheduleDues("r", "a", new ScheduledDue[361].Select(_ => new ScheduledDue(1, 1)).ToArray()))?.Field);
        Assert.Equal("dues.amount", CommandValidator.Validate(Command.ScheduleDues("r", "a", [new ScheduledDue(1, 0)]))?.Field);
        Assert.Equal("kind", CommandValidator.Validate(Command.TopUp("r", "a", 1, FundsKind.None))?.Field);
        Assert.Equal("amount", CommandValidator.Validate(Command.PayOut("r", "a", 0))?.Field);
        Assert.Equal("advance_ms", CommandValidator.Validate(Command.AdvanceClock("r", -1))?.Field);
        Assert.Equal("freeze_at_days", CommandValidator.Validate(Command.SetDelinquencyPolicy("r", "a", new DelinquencyPolicy { FreezeAtDays = -1 }))?.Field);
        Assert.Null(CommandValidator.Validate(Command.SetDelinquencyPolicy("r", "a", null)));
    }

    [Fact]
    public void Lifecycle_commands_are_idempotent_by_request_id()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        Command topUp = Command.TopUp("top-1", "acct-1", 100, FundsKind.Deposit);
        Reply first = h.Execute(topUp);
        Reply again = h.Execute(topUp);
        Assert.True(again.Replayed);
        Assert.Equal(first.Sequence, again.Sequence);
        Assert.Equal(100, Lifecycle(h).DepositMinor);
        Assert.Equal(Status.RequestIdReused, h.Execute(Command.TopUp("top-1", "acct-1", 101, FundsKind.Deposit)).Status);
    }
}
