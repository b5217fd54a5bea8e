namespace Engine.Domain.Tests;

/// <summary>docs/SPEC.md "Recovery" and "Determinism": a snapshot restores the exact state, and so does replaying the log.</summary>
public sealed class SnapshotTests
{
    /// <summary>A ledger exercising every kind of state: controls with a running velocity window, temporary limits,
    /// frozen and closed accounts, open, partially captured, closed, voided and expired authorizations, linked
    /// refunds, remembered request ids.</summary>
    private static LedgerHarness BusyLedger()
    {
        var h = new LedgerHarness(new LedgerOptions { DefaultHoldExpirySeconds = 120 });
        h.Open("acct-1", 10_000, "EUR", overcapturePercent: 10);
        h.Open("acct-2", 5_000);
        h.Open("acct-3", 0, "JPY");
        h.Open("acct-4", 1);
        h.Execute(Command.SetSpendingControls(h.NextRequestId(), "acct-1", new SpendingControls { MaxAuthorizationAmountMinor = 5_000, VelocityMaxCount = 10, VelocityMaxAmountMinor = 50_000, VelocityWindowSeconds = 3600, BlockedMccs = [4829, 7995] }));
        h.Execute(Command.SetTemporaryLimit(h.NextRequestId(), "acct-2", 700, h.Now + 600_000));
        h.Execute(Command.Authorize("a1", "acct-1", 1_000, "EUR"));
        h.Execute(Command.Authorize("a2", "acct-1", 2_000, "EUR", expiresInSeconds: 30));
        h.Execute(Command.Authorize("a3", "acct-2", 3_000, "USD", merchantId: "shop"));
        h.Execute(Command.Authorize("a4", "acct-2", 500, "USD"));
        h.Execute(Command.Authorize("a5", "acct-1", 6_000, "EUR"));
        h.Execute(Command.Capture(h.NextRequestId(), "a1", 400, final: false));
        h.Execute(Command.Capture(h.NextRequestId(), "a3", 3_000, final: true));
        h.Execute(Command.Refund(h.NextRequestId(), "acct-2", 1_000, "a3"));
        h.Execute(Command.Void(h.NextRequestId(), "a4"));
        h.Execute(Command.IncrementAuthorization(h.NextRequestId(), "a1", 100));
        h.Execute(Command.Freeze(h.NextRequestId(), "acct-2", "review"));
        h.Execute(Command.Repay(h.NextRequestId(), "acct-3", 77));
        h.Execute(Command.CloseAccount(h.NextRequestId(), "acct-4"));
        h.Now += 30_000;
        h.Execute(Command.Tick());
        h.Execute(Command.Authorize("a6", "acct-1", 100, "EUR"));
        Assert.Equal(AuthorizationState.Expired, h.AuthorizationOf("a2").State);
        Assert.Equal(AuthorizationState.Voided, h.AuthorizationOf("a4").State);
        Assert.Equal(AuthorizationState.Closed, h.AuthorizationOf("a3").State);
        Assert.NotNull(h.AccountOf("acct-1").Controls);
        return h;
    }

    private static Ledger RoundTrip(Ledger ledger, LedgerOptions? options = null)
    {
        var stream = new MemoryStream();
        ledger.WriteSnapshot(stream);
        stream.Position = 0;
        Ledger restored = Ledger.ReadSnapshot(stream, options);
        Assert.Equal(stream.Length, stream.Position);
        return restored;
    }

    [Fact]
    public void Snapshot_round_trip_restores_the_same_digest_and_passes_the_invariants()
    {
        LedgerHarness h = BusyLedger();
        h.Ledger.CheckInvariants();

        Ledger restored = RoundTrip(h.Ledger, h.Ledger.Options);

        restored.CheckInvariants();
        Assert.Equal(h.Ledger.ComputeDigest(), restored.ComputeDigest());
        Assert.Equal(h.Ledger.LastSequence, restored.LastSequence);
        Assert.Equal(h.Ledger.LastTimestampUnixMs, restored.LastTimestampUnixMs);
        Assert.Equal(h.Ledger.AccountCount, restored.AccountCount);
        Assert.Equal(h.Ledger.AuthorizationCount, restored.AuthorizationCount);
        Assert.Equal(h.Ledger.OpenAuthorizationCount, restored.OpenAuthorizationCount);
        Assert.Equal(h.Ledger.IdempotencyEntryCount, restored.IdempotencyEntryCount);
        foreach (Account account in h.Ledger.Accounts)
        {
            Assert.True(restored.TryGetAccount(account.Id, out Account copy));
            Assert.Equal((account.CreditLimitMinor, account.TemporaryLimitMinor, account.HeldMinor, account.PostedMinor, account.Status),
                (copy.CreditLimitMinor, copy.TemporaryLimitMinor, copy.HeldMinor, copy.PostedMinor, copy.Status));
        }
    }

    [Fact]
    public void Snapshot_of_a_ledger_larger_than_its_initial_capacities_round_trips()
    {
        var h = new LedgerHarness();
        for (int i = 0; i < 1_500; i++)
        {
            h.Open($"acct-{i}", 1_000);
            h.Authorize($"a{i}", $"acct-{i}", 10, expiresInSeconds: 1 + i % 7);
            h.Authorize($"b{i}", $"acct-{i}", 10);
        }
        h.Now += 3_000;
        h.Execute(Command.Tick());

        Ledger restored = RoundTrip(h.Ledger, h.Ledger.Options);

        restored.CheckInvariants();
        Assert.Equal(1_500, restored.AccountCount);
        Assert.Equal(h.Ledger.OpenAuthorizationCount, restored.OpenAuthorizationCount);
        Assert.Equal(h.Ledger.ComputeDigest(), restored.ComputeDigest());
        h.Now += 10_000;
        var sink = new CollectingSink();
        restored.Execute(Command.Tick(), h.Now, sink);
        h.Execute(Command.Tick());
        Assert.Equal(h.Ledger.ComputeDigest(), restored.ComputeDigest());
    }

    [Fact]
    public void Snapshot_keeps_reversals_so_a_restored_ledger_still_refuses_capturing_what_was_reversed()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Authorize("a1", "acct-1", 300);
        h.Execute(Command.Void(h.NextRequestId(), "a1", 250));

        Ledger restored = RoundTrip(h.Ledger, h.Ledger.Options);

        Assert.Equal(h.Ledger.ComputeDigest(), restored.ComputeDigest());
        Assert.True(restored.TryGetAuthorization("a1", out Authorization? authorization));
        Assert.Equal(250, authorization!.ReversedMinor);
    }

    [Fact]
    public void Version_1_snapshot_still_loads_and_derives_reversals_of_open_authorizations()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Authorize("auth-v1-marker", "acct-1", 300);
        h.Execute(Command.Capture(h.NextRequestId(), "auth-v1-marker", 20, final: false));
        h.Execute(Command.Void(h.NextRequestId(), "auth-v1-marker", 250));
        var stream = new MemoryStream();
        h.Ledger.WriteSnapshot(stream, 2); // the version 2 layout, rewritten below into version 1
        byte[] version1 = ToVersion1(stream.ToArray(), "auth-v1-marker");

        Ledger restored = Ledger.ReadSnapshot(new MemoryStream(version1), h.Ledger.Options);

        Assert.True(restored.TryGetAuthorization("auth-v1-marker", out Authorization? authorization));
        // 300 authorized − 30 held − 20 captured: the 250 reversed, recovered without the field.
        Assert.Equal(250, authorization!.ReversedMinor);
        Assert.Equal(h.Ledger.ComputeDigest(), restored.ComputeDigest());
        restored.CheckInvariants();
    }

    /// <summary>
    /// Rewrites a version 2 snapshot whose only authorization is open (and so last before the request ids) into the
    /// version 1 layout: version field 1, no ReversedMinor (the 8 bytes after id, account index, created sequence and
    /// four amounts), and the request ids behind a count instead of a 1 before each and a 0 after the last.
    /// </summary>
    private static byte[] ToVersion1(byte[] version2, string onlyAuthorizationId)
    {
        const int requestIdBytes = 16 + 6 * sizeof(long) + 1;
        Assert.Equal(2, BitConverter.ToInt32(version2, 4));
        byte[] marker = [(byte)onlyAuthorizationId.Length, .. System.Text.Encoding.ASCII.GetBytes(onlyAuthorizationId)];
        int at = version2.AsSpan().IndexOf(marker);
        Assert.True(at > 0 && version2.AsSpan(at + 1).IndexOf(marker) < 0, "the authorization id appears once");
        int reversedAt = at + marker.Length + sizeof(int) + 5 * sizeof(long);
        int requestIdsAt = reversedAt + sizeof(long) + 2 * sizeof(long) + 1;
        int endMarkerAt = version2.Length - sizeof(uint) - 1;
        Assert.Equal(0, version2[endMarkerAt]);
        Assert.Equal(0, (endMarkerAt - requestIdsAt) % (1 + requestIdBytes));
        int requestIds = (endMarkerAt - requestIdsAt) / (1 + requestIdBytes);
        var version1 = new List<byte>(version2.AsSpan(0, reversedAt).ToArray());
        version1.AddRange(version2.AsSpan(reversedAt + sizeof(long), requestIdsAt - reversedAt - sizeof(long)).ToArray());
        version1.AddRange(BitConverter.GetBytes(requestIds));
        for (int i = 0; i < requestIds; i++)
        {
            int entryAt = requestIdsAt + i * (1 + requestIdBytes);
            Assert.Equal(1, version2[entryAt]);
            version1.AddRange(version2.AsSpan(entryAt + 1, requestIdBytes).ToArray());
        }
        version1.AddRange(version2.AsSpan(version2.Length - sizeof(uint)).ToArray());
        byte[] bytes = [.. version1];
        BitConverter.GetBytes(1).CopyTo(bytes, 4);
        return bytes;
    }

    [Fact]
    public void Snapshot_of_an_empty_ledger_round_trips()
    {
        var ledger = new Ledger();
        Ledger restored = RoundTrip(ledger);
        Assert.Equal(ledger.ComputeDigest(), restored.ComputeDigest());
        Assert.Equal(0, restored.LastSequence);
    }

    [Fact]
    public void Replaying_the_event_log_rebuilds_the_same_digest()
    {
        LedgerHarness h = BusyLedger();
        var rebuilt = new Ledger(h.Ledger.Options);
        foreach (LedgerEvent e in h.Sink.Events) rebuilt.Apply(EventCodecTests.RoundTrip(e));
        rebuilt.CheckInvariants();
        Assert.Equal(h.Ledger.ComputeDigest(), rebuilt.ComputeDigest());
    }

    [Fact]
    public void A_restored_ledger_continues_exactly_like_the_original()
    {
        LedgerHarness h = BusyLedger();
        Ledger restored = RoundTrip(h.Ledger, h.Ledger.Options);
        var restoredSink = new CollectingSink();
        Command[] more =
        [
            Command.Authorize("a1", "acct-1", 1_000, "EUR"),                  // replay
            Command.Authorize("a1", "acct-1", 1_001, "EUR"),                  // reuse
            Command.Capture("more-1", "a1", 700, final: true),
            Command.Capture("more-2", "a2", 2_000, final: false),             // late capture of the expired hold
            Command.Authorize("more-3", "acct-1", 4_000, "EUR", mcc: 7995),
            Command.Unfreeze("more-4", "acct-2"),
            Command.Authorize("more-5", "acct-2", 100, "USD"),
            Command.Tick(),
        ];
        long[] times = [0, 0, 0, 0, 0, 0, 0, 10_000_000];
        for (int i = 0; i < more.Length; i++)
        {
            h.Now += times[i];
            int before = h.Sink.Events.Count;
            Reply original = h.Ledger.Execute(more[i], h.Now, h.Sink);
            Reply copy = restored.Execute(more[i], h.Now, restoredSink);
            Assert.Equal(original, copy);
        }
        Assert.Equal(h.Sink.Events.Skip(h.Sink.Events.Count - restoredSink.Events.Count).Select(e => e.ToString()), restoredSink.Events.Select(e => e.ToString()));
        Assert.Equal(h.Ledger.ComputeDigest(), restored.ComputeDigest());
        restored.CheckInvariants();
    }

    [Fact]
    public void Ledgers_with_the_same_history_write_the_same_bytes_and_different_states_different_digests()
    {
        LedgerHarness first = BusyLedger();
        LedgerHarness second = BusyLedger();
        var a = new MemoryStream();
        var b = new MemoryStream();
        first.Ledger.WriteSnapshot(a);
        second.Ledger.WriteSnapshot(b);
        Assert.Equal(a.ToArray(), b.ToArray());

        second.Execute(Command.Repay(second.NextRequestId(), "acct-3", 1));
        Assert.NotEqual(first.Ledger.ComputeDigest(), second.Ledger.ComputeDigest());
    }

    [Fact]
    public void Snapshot_with_a_bad_magic_or_version_is_a_FormatException()
    {
        var stream = new MemoryStream();
        BusyLedger().Ledger.WriteSnapshot(stream);
        byte[] bytes = stream.ToArray();

        byte[] badMagic = (byte[])bytes.Clone();
        badMagic[0] ^= 0xFF;
        Assert.Throws<FormatException>(() => Ledger.ReadSnapshot(new MemoryStream(badMagic)));

        byte[] badVersion = (byte[])bytes.Clone();
        badVersion[4] = 99;
        Assert.Throws<FormatException>(() => Ledger.ReadSnapshot(new MemoryStream(badVersion)));

        byte[] badEnd = (byte[])bytes.Clone();
        badEnd[^1] ^= 0xFF;
        Assert.Throws<FormatException>(() => Ledger.ReadSnapshot(new MemoryStream(badEnd)));
    }

    [Fact]
    public void Truncated_snapshot_is_refused()
    {
        var stream = new MemoryStream();
        BusyLedger().Ledger.WriteSnapshot(stream);
        byte[] bytes = stream.ToArray();
        foreach (int length in new[] { 0, 3, 8, 20, bytes.Length / 2, bytes.Length - 1 })
        {
            Exception error = Assert.ThrowsAny<Exception>(() => Ledger.ReadSnapshot(new MemoryStream(bytes, 0, length)));
            Assert.True(error is FormatException or EndOfStreamException, $"length {length}: {error.GetType().Name}");
        }
    }
}
