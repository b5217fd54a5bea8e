namespace Engine.Domain.Tests;

/// <summary>
/// The idempotency table's two tiers (README "Idempotency"): ids beyond the memory bound spill to a store while inside
/// the window and still replay; a window enlarged between runs replays a log that repeats an id its writer forgot.
/// The store here is a plain in-memory log with the same contract as the engine's FASTER store
/// (Engine.Core.Tests.IdempotencySpillEngineTests covers that one, with restarts).
/// </summary>
public sealed class IdempotencySpillTests
{
    private static LedgerOptions Bounded(long memoryEntries, long minEntries = 1_000_000, long minAgeMs = long.MaxValue) =>
        new() { IdempotencyMaxEntries = memoryEntries, IdempotencyMinEntries = minEntries, IdempotencyMinAgeMs = minAgeMs };

    private static LedgerHarness Harness(LedgerOptions options, ListSpillStore? spill) => new(new Ledger(options, spill));

    [Fact]
    public void Request_ids_beyond_the_memory_bound_spill_and_the_oldest_of_100000_still_replays()
    {
        var spill = new ListSpillStore();
        LedgerHarness h = Harness(Bounded(memoryEntries: 1_000), spill);
        h.Open("acct-1", 1_000_000_000);
        Command first = Command.Repay("first", "acct-1", 7);
        Reply original = h.Execute(first);
        for (int i = 0; i < 99_999; i++) h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));

        Assert.Equal(100_001, h.Ledger.IdempotencyEntryCount);
        Assert.Equal(100_001 - 1_000, h.Ledger.IdempotencySpilledCount);
        Assert.Equal(LedgerHarness.T0, h.Ledger.IdempotencyOldestTimestampUnixMs);
        (Reply again, List<LedgerEvent> events) = h.Run(first);
        Assert.Empty(events);
        Assert.True(again.Replayed);
        Assert.Equal(original with { Replayed = true }, again);
    }

    [Fact]
    public void A_retried_capture_or_repay_of_a_spilled_request_id_posts_nothing_twice()
    {
        LedgerHarness h = Harness(Bounded(memoryEntries: 10), new ListSpillStore());
        h.Open("acct-1", 100_000);
        h.Authorize("auth-1", "acct-1", 500);
        Command capture = Command.Capture("cap-1", "auth-1", 500, final: true);
        Command repay = Command.Repay("repay-1", "acct-1", 200);
        h.Execute(capture);
        h.Execute(repay);
        for (int i = 0; i < 100; i++) h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        Assert.True(h.Ledger.IdempotencySpilledCount > 4);

        Assert.True(h.Run(capture) is { Reply.Replayed: true, Events.Count: 0 });
        Assert.True(h.Run(repay) is { Reply.Replayed: true, Events.Count: 0 });
        h.AssertBalances("acct-1", 100_000 - 500 + 200 + 100, 0, 500 - 200 - 100);
        // The same id with another payload is still recognised as reused.
        Assert.Equal(Status.RequestIdReused, h.Execute(Command.Repay("repay-1", "acct-1", 999)).Status);
    }

    [Fact]
    public void A_new_request_id_is_accepted_while_ids_are_spilled()
    {
        var spill = new ListSpillStore();
        LedgerHarness h = Harness(Bounded(memoryEntries: 10), spill);
        h.Open("acct-1", 100_000);
        for (int i = 0; i < 100; i++) h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        int readsBefore = spill.Reads;
        LedgerEvent e = h.Single(Command.Repay("new-one", "acct-1", 5));
        Assert.Equal(EventType.Repaid, e.Type);
        Assert.Equal(readsBefore + 1, spill.Reads); // a memory miss consults the store once
    }

    [Fact]
    public void Snapshots_are_the_same_bytes_with_or_without_spilling_and_restore_into_either()
    {
        LedgerHarness spilled = Harness(Bounded(memoryEntries: 5), new ListSpillStore());
        LedgerHarness inMemory = Harness(Bounded(memoryEntries: long.MaxValue), null);
        foreach (LedgerHarness h in new[] { spilled, inMemory })
        {
            h.Open("acct-1", 100_000);
            for (int i = 0; i < 50; i++)
            {
                h.Now += 3;
                h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
            }
        }
        Assert.Equal(46, spilled.Ledger.IdempotencySpilledCount);
        Assert.Equal(inMemory.Ledger.ComputeDigest(), spilled.Ledger.ComputeDigest());

        using var stream = new MemoryStream();
        spilled.Ledger.WriteSnapshot(stream);
        stream.Position = 0;
        Ledger restored = Ledger.ReadSnapshot(stream, Bounded(memoryEntries: 20), new ListSpillStore());
        Assert.Equal(51, restored.IdempotencyEntryCount);
        Assert.Equal(31, restored.IdempotencySpilledCount);
        Assert.Equal(inMemory.Ledger.ComputeDigest(), restored.ComputeDigest());
    }

    [Fact]
    public void Spilled_request_ids_beyond_the_window_are_forgotten_a_block_at_a_time()
    {
        var spill = new ListSpillStore();
        LedgerHarness h = Harness(Bounded(memoryEntries: 100, minEntries: 500, minAgeMs: 0), spill);
        h.Open("acct-1", 1_000_000);
        Command first = Command.Repay("first", "acct-1", 1);
        h.Execute(first);
        int total = 2 + 3 * IdempotencyTable.SpillBlockEntries;
        for (int i = 2; i < total; i++)
        {
            h.Now += 1;
            h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        }
        // At least the window (500 newest) is kept; older ones leave a whole block at a time, so fewer than a block more.
        Assert.InRange(h.Ledger.IdempotencyEntryCount, 500, 500 + IdempotencyTable.SpillBlockEntries + 100);
        Assert.True(spill.ForgottenBefore > 0);
        Assert.False(h.Run(first).Reply.Replayed);
    }

    [Fact]
    public void Without_a_spill_store_the_memory_bound_forgets_ids_inside_the_window_and_counts_them()
    {
        LedgerHarness h = Harness(Bounded(memoryEntries: 10), null);
        h.Open("acct-1", 100_000);
        for (int i = 0; i < 30; i++) h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        Assert.Equal(10, h.Ledger.IdempotencyEntryCount);
        Assert.Equal(21, h.Ledger.IdempotencyEvictedInsideWindow);
    }

    [Fact]
    public void Enlarging_the_idempotency_window_between_runs_does_not_make_recovery_throw()
    {
        // Run 1, a small window: "dup" is forgotten, then used again, so the log records it twice.
        var small = new LedgerOptions { IdempotencyMinEntries = 3, IdempotencyMinAgeMs = 0 };
        var h = new LedgerHarness(small);
        h.Open("acct-1", 100_000);
        Command dup = Command.Repay("dup", "acct-1", 1);
        h.Execute(dup);
        using var snapshot = new MemoryStream();
        h.Ledger.WriteSnapshot(snapshot); // holds "dup", sized for the small window
        int snapshotEvents = h.Sink.Events.Count;
        Command old = Command.Repay("old", "acct-1", 3);
        h.Execute(old);
        for (int i = 0; i < 10; i++)
        {
            h.Now += 1; // older than the minimum age of 0 ms
            h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 1));
        }
        Reply second = h.Execute(Command.Repay("dup", "acct-1", 2));
        Assert.Equal(Status.Ok, second.Status);
        Assert.False(second.Replayed);

        // Run 2, a larger window, both ways a restart recovers: the whole log, and the snapshot plus the log after it.
        var large = new LedgerOptions { IdempotencyMinEntries = 1_000, IdempotencyMinAgeMs = 0 };
        var fromLog = new Ledger(large);
        foreach (LedgerEvent e in h.Sink.Events) fromLog.Apply(e);
        snapshot.Position = 0;
        Ledger fromSnapshot = Ledger.ReadSnapshot(snapshot, large);
        foreach (LedgerEvent e in h.Sink.Events.Skip(snapshotEvents)) fromSnapshot.Apply(e);

        foreach (Ledger recovered in new[] { fromLog, fromSnapshot })
        {
            var sink = new CollectingSink();
            // "dup" answers with its newer record (the one the first run last gave); "old" is inside the larger window.
            Assert.Equal(second with { Replayed = true }, recovered.Execute(Command.Repay("dup", "acct-1", 2), h.Now, sink));
            Assert.True(recovered.Execute(old, h.Now, sink).Replayed);
            Assert.Empty(sink.Events);
            recovered.CheckInvariants();
        }
        Assert.Equal(fromLog.ComputeDigest(), fromSnapshot.ComputeDigest());
    }

    /// <summary>An in-memory append-only log with a key index: the <see cref="IIdempotencySpillStore"/> contract, nothing more.</summary>
    private sealed class ListSpillStore : IIdempotencySpillStore
    {
        private readonly List<(UInt128 Key, IdempotencyRecord Record)> _log = [];
        private readonly Dictionary<UInt128, int> _newest = [];
        private int _begin;

        public int Reads { get; private set; }
        public long ForgottenBefore => _begin;
        public long TailAddress => _log.Count;

        public void Write(UInt128 requestKey, in IdempotencyRecord record)
        {
            _newest[requestKey] = _log.Count;
            _log.Add((requestKey, record));
        }

        public bool TryRead(UInt128 requestKey, out IdempotencyRecord record)
        {
            Reads++;
            if (_newest.TryGetValue(requestKey, out int at) && at >= _begin)
            {
                record = _log[at].Record;
                return true;
            }
            record = default;
            return false;
        }

        public void ForgetBefore(long address) => _begin = checked((int)address);

        public IEnumerable<(UInt128 Key, IdempotencyRecord Record)> ReadAll() => _log.Skip(_begin);

        public void Dispose() { }
    }
}
