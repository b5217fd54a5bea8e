namespace Engine.Domain.Tests;

/// <summary>docs/SPEC.md "Money and identifiers": request ids are idempotency keys; replays and reuses change nothing.</summary>
public sealed class IdempotencyTests
{
    private readonly LedgerHarness _h = new();

    public IdempotencyTests() => _h.Open("acct-1", 1_000);

    [Fact]
    public void Retry_with_the_same_payload_returns_the_original_reply_replayed_and_changes_nothing()
    {
        Command authorize = Command.Authorize("a1", "acct-1", 300, "USD", merchantId: "m-1", mcc: 5411);
        Reply original = _h.Execute(authorize);
        _h.Now += 5_000;
        _h.Authorize("a2", "acct-1", 100);
        UInt128 digest = _h.Ledger.ComputeDigest();
        long sequence = _h.Ledger.LastSequence;

        var (retry, events) = _h.Run(authorize);

        Assert.Empty(events);
        Assert.True(retry.Replayed);
        Assert.Equal(original with { Replayed = true }, retry);
        Assert.Equal((700L, 300L, 0L), (retry.AvailableMinor, retry.HeldMinor, retry.PostedMinor));
        Assert.Equal(digest, _h.Ledger.ComputeDigest());
        Assert.Equal(sequence, _h.Ledger.LastSequence);
        _h.AssertBalances("acct-1", 600, 400, 0);
    }

    [Fact]
    public void Retried_decline_gets_the_same_decline_even_when_it_would_now_be_approved()
    {
        Command authorize = Command.Authorize("a1", "acct-1", 1_500, "USD");
        Reply original = _h.Execute(authorize);
        Assert.Equal(Status.InsufficientCredit, original.Status);
        _h.Execute(Command.ChangeLimit(_h.NextRequestId(), "acct-1", 5_000));
        UInt128 digest = _h.Ledger.ComputeDigest();

        var (retry, events) = _h.Run(authorize);

        Assert.Empty(events);
        Assert.Equal(original with { Replayed = true }, retry);
        Assert.Equal("51", retry.ResponseCode);
        Assert.Equal(digest, _h.Ledger.ComputeDigest());
        Assert.False(_h.Ledger.TryGetAuthorization("a1", out _));
    }

    [Fact]
    public void Retry_of_a_replay_is_still_the_original_reply()
    {
        Command capture = Command.Capture("c1", "nope", 5, final: false);
        Reply original = _h.Execute(capture);
        Assert.Equal(original with { Replayed = true }, _h.Execute(capture));
        Assert.Equal(original with { Replayed = true }, _h.Execute(capture));
    }

    [Fact]
    public void Retry_with_a_different_payload_is_RequestIdReused_94_and_changes_nothing()
    {
        _h.Authorize("a1", "acct-1", 300);
        _h.Now += 1_000;
        UInt128 digest = _h.Ledger.ComputeDigest();
        long sequence = _h.Ledger.LastSequence;

        var (reply, events) = _h.Run(Command.Authorize("a1", "acct-1", 301, "USD"));

        Assert.Empty(events);
        Assert.Equal(Status.RequestIdReused, reply.Status);
        Assert.Equal("94", reply.ResponseCode);
        Assert.False(reply.Replayed);
        Assert.Equal(sequence, reply.Sequence);
        Assert.Equal((700L, 300L, 0L), (reply.AvailableMinor, reply.HeldMinor, reply.PostedMinor));
        Assert.Equal(digest, _h.Ledger.ComputeDigest());
        Assert.Equal(300, _h.AuthorizationOf("a1").AuthorizedMinor);
    }

    [Fact]
    public void Reusing_a_request_id_for_another_command_type_is_RequestIdReused()
    {
        _h.Authorize("a1", "acct-1", 300);
        UInt128 digest = _h.Ledger.ComputeDigest();

        var (reply, events) = _h.Run(Command.Capture("a1", "a1", 300, final: true));

        Assert.Empty(events);
        Assert.Equal(Status.RequestIdReused, reply.Status);
        // The balances are those of the account the new payload names (through the authorization here).
        Assert.Equal((700L, 300L, 0L), (reply.AvailableMinor, reply.HeldMinor, reply.PostedMinor));
        Assert.Equal(digest, _h.Ledger.ComputeDigest());
        Assert.Equal(AuthorizationState.Open, _h.AuthorizationOf("a1").State);
    }

    [Fact]
    public void Reused_request_id_naming_no_known_account_replies_zero_balances()
    {
        _h.Execute(Command.Repay("r1", "acct-1", 5));
        Reply reply = _h.Execute(Command.Repay("r1", "nope", 5));
        Assert.Equal(Status.RequestIdReused, reply.Status);
        Assert.Equal((0L, 0L, 0L), (reply.AvailableMinor, reply.HeldMinor, reply.PostedMinor));
    }

    [Fact]
    public void Retry_of_a_declined_request_with_a_different_payload_is_RequestIdReused()
    {
        Assert.Equal(Status.AccountNotFound, _h.Execute(Command.Repay("r1", "nope", 5)).Status);
        Assert.Equal(Status.RequestIdReused, _h.Execute(Command.Repay("r1", "acct-1", 5)).Status);
        _h.AssertBalances("acct-1", 1_000, 0, 0);
    }

    [Fact]
    public void Absent_and_empty_optional_strings_are_different_payloads()
    {
        _h.Execute(Command.ForcePost("fp1", "acct-1", 5, merchantId: null));
        Assert.Equal(Status.RequestIdReused, _h.Execute(Command.ForcePost("fp1", "acct-1", 5, merchantId: "")).Status);
        Assert.True(_h.Execute(Command.ForcePost("fp1", "acct-1", 5, merchantId: null)).Replayed);
    }

    public static TheoryData<string> PayloadChanges() =>
        ["amount", "account", "currency", "merchant", "mcc", "expires", "final", "reason", "controls"];

    [Theory]
    [MemberData(nameof(PayloadChanges))]
    public void Any_field_of_the_payload_distinguishes_a_reuse_from_a_retry(string field)
    {
        _h.Open("acct-2", 1_000);
        _h.Authorize("auth", "acct-1", 10);
        (Command original, Command changed) = field switch
        {
            "amount" => (Command.Authorize("x", "acct-1", 5, "USD"), Command.Authorize("x", "acct-1", 6, "USD")),
            "account" => (Command.Authorize("x", "acct-1", 5, "USD"), Command.Authorize("x", "acct-2", 5, "USD")),
            "currency" => (Command.Authorize("x", "acct-1", 5, "USD"), Command.Authorize("x", "acct-1", 5, "EUR")),
            "merchant" => (Command.Authorize("x", "acct-1", 5, "USD", "m1"), Command.Authorize("x", "acct-1", 5, "USD", "m2")),
            "mcc" => (Command.Authorize("x", "acct-1", 5, "USD", mcc: 1), Command.Authorize("x", "acct-1", 5, "USD", mcc: 2)),
            "expires" => (Command.Authorize("x", "acct-1", 5, "USD", expiresInSeconds: 1), Command.Authorize("x", "acct-1", 5, "USD", expiresInSeconds: 2)),
            "final" => (Command.Capture("x", "auth", 5, final: false), Command.Capture("x", "auth", 5, final: true)),
            "reason" => (Command.Freeze("x", "acct-2", "a"), Command.Freeze("x", "acct-2", "b")),
            "controls" => (Command.SetSpendingControls("x", "acct-2", new SpendingControls { BlockedMccs = [1] }),
                           Command.SetSpendingControls("x", "acct-2", new SpendingControls { BlockedMccs = [2] })),
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
        Reply first = _h.Execute(original);
        UInt128 digest = _h.Ledger.ComputeDigest();

        Assert.Equal(Status.RequestIdReused, _h.Execute(changed).Status);
        Assert.Equal(first with { Replayed = true }, _h.Execute(original));
        Assert.Equal(digest, _h.Ledger.ComputeDigest());
    }

    [Fact]
    public void Replays_hold_across_a_restart_from_a_snapshot_and_from_the_event_log()
    {
        Command authorize = Command.Authorize("a1", "acct-1", 300, "USD");
        Reply original = _h.Execute(authorize);
        Reply declined = _h.Execute(Command.Authorize("a2", "acct-1", 5_000, "USD"));

        var stream = new MemoryStream();
        _h.Ledger.WriteSnapshot(stream);
        stream.Position = 0;
        Ledger fromSnapshot = Ledger.ReadSnapshot(stream);
        var fromLog = new Ledger();
        foreach (LedgerEvent e in _h.Sink.Events) fromLog.Apply(e);

        foreach (Ledger restarted in new[] { fromSnapshot, fromLog })
        {
            var sink = new CollectingSink();
            Assert.Equal(original with { Replayed = true }, restarted.Execute(authorize, _h.Now + 10, sink));
            Assert.Equal(declined with { Replayed = true }, restarted.Execute(Command.Authorize("a2", "acct-1", 5_000, "USD"), _h.Now + 10, sink));
            Assert.Equal(Status.RequestIdReused, restarted.Execute(Command.Authorize("a1", "acct-1", 1, "USD"), _h.Now + 10, sink).Status);
            Assert.Empty(sink.Events);
        }
    }

    // ----- retention window -----

    private static LedgerHarness Retention(long minEntries, long minAgeMs, long maxEntries = long.MaxValue) =>
        new(new LedgerOptions { IdempotencyMinEntries = minEntries, IdempotencyMinAgeMs = minAgeMs, IdempotencyMaxEntries = maxEntries });

    private static bool Remembers(LedgerHarness h, Command command)
    {
        var (reply, events) = h.Run(command);
        Assert.True(reply.Replayed || events.Count == 1);
        return reply.Replayed;
    }

    [Fact]
    public void Request_ids_younger_than_the_minimum_age_are_remembered_however_many_newer_ones_exist()
    {
        LedgerHarness h = Retention(minEntries: 3, minAgeMs: 1_000);
        h.Open("acct-1", 1_000);
        Command first = Command.Repay("first", "acct-1", 1);
        h.Execute(first);
        for (int i = 0; i < 50; i++) h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        h.Now += 1_000; // exactly the minimum age: not older than it
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        Assert.True(Remembers(h, first));
    }

    [Fact]
    public void The_newest_minimum_count_of_request_ids_are_remembered_however_old()
    {
        LedgerHarness h = Retention(minEntries: 3, minAgeMs: 1_000);
        h.Open("acct-1", 1_000);
        Command first = Command.Repay("first", "acct-1", 1);
        h.Execute(first);
        h.Now += 1_000_000;
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        // The OpenAccount request had 3 newer entries and was old: forgotten. "first" is among the newest 3: kept.
        Assert.Equal(3, h.Ledger.IdempotencyEntryCount);
        Assert.True(Remembers(h, first));
    }

    [Fact]
    public void Request_ids_beyond_both_the_minimum_count_and_age_are_forgotten_and_run_again()
    {
        LedgerHarness h = Retention(minEntries: 3, minAgeMs: 1_000);
        h.Open("acct-1", 1_000);
        Command first = Command.Repay("first", "acct-1", 1);
        h.Execute(first);
        h.Now += 1_001;
        for (int i = 0; i < 4; i++) h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));

        // The OpenAccount request and "first" are old and have at least 3 newer entries: gone. The newer ones are
        // younger than the minimum age, so all 4 stay even though that is more than the minimum count.
        Assert.Equal(4, h.Ledger.IdempotencyEntryCount);
        Assert.False(Remembers(h, first));
        h.AssertBalances("acct-1", 1_006, 0, -6);
    }

    [Fact]
    public void The_hard_bound_forgets_the_oldest_request_ids_even_inside_the_window()
    {
        LedgerHarness h = Retention(minEntries: 1_000, minAgeMs: long.MaxValue, maxEntries: 5);
        h.Open("acct-1", 1_000);
        Command first = Command.Repay("first", "acct-1", 1);
        h.Execute(first);
        for (int i = 0; i < 20; i++) h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        Assert.Equal(5, h.Ledger.IdempotencyEntryCount);
        Assert.False(Remembers(h, first));
    }

    [Fact]
    public void Retention_after_rebuild_from_events_matches_the_live_ledger()
    {
        var options = new LedgerOptions { IdempotencyMinEntries = 3, IdempotencyMinAgeMs = 10 };
        var h = new LedgerHarness(options);
        h.Open("acct-1", 1_000);
        for (int i = 0; i < 40; i++)
        {
            h.Now += i % 7;
            h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        }
        var rebuilt = new Ledger(options);
        foreach (LedgerEvent e in h.Sink.Events) rebuilt.Apply(e);
        Assert.Equal(h.Ledger.IdempotencyEntryCount, rebuilt.IdempotencyEntryCount);
        Assert.Equal(h.Ledger.ComputeDigest(), rebuilt.ComputeDigest());
    }
}
