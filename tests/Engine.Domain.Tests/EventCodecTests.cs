namespace Engine.Domain.Tests;

/// <summary>The journal's event encoding: every field of every event type survives Encode → Decode exactly.</summary>
public sealed class EventCodecTests
{
    internal static LedgerEvent RoundTrip(in LedgerEvent e)
    {
        var buffer = new byte[EventCodec.EncodedSizeMax];
        int written = EventCodec.Encode(e, buffer);
        Assert.InRange(written, 1, EventCodec.EncodedSizeMax);
        int read = EventCodec.Decode(buffer.AsSpan(0, written), out LedgerEvent decoded);
        Assert.Equal(written, read);
        return decoded;
    }

    internal static void AssertSameEvent(in LedgerEvent expected, in LedgerEvent actual)
    {
        Assert.Equal(expected.Sequence, actual.Sequence);
        Assert.Equal(expected.TimestampUnixMs, actual.TimestampUnixMs);
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Command, actual.Command);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.RequestId ?? "", actual.RequestId);
        Assert.Equal(expected.PayloadFingerprint, actual.PayloadFingerprint);
        Assert.Equal(expected.AccountId ?? "", actual.AccountId);
        Assert.Equal(expected.AuthorizationId, actual.AuthorizationId);
        Assert.Equal(expected.AmountMinor, actual.AmountMinor);
        Assert.Equal(expected.HoldReleasedMinor, actual.HoldReleasedMinor);
        Assert.Equal(expected.ExpiresAtUnixMs, actual.ExpiresAtUnixMs);
        Assert.Equal(expected.AuthorizationClosed, actual.AuthorizationClosed);
        Assert.Equal(expected.Final, actual.Final);
        Assert.Equal(expected.HeldMinor, actual.HeldMinor);
        Assert.Equal(expected.PostedMinor, actual.PostedMinor);
        Assert.Equal(expected.AvailableMinor, actual.AvailableMinor);
        Assert.Equal(expected.CustomerId, actual.CustomerId);
        Assert.Equal(expected.CurrencyCode, actual.CurrencyCode);
        Assert.Equal(expected.OvercapturePercent, actual.OvercapturePercent);
        Assert.Equal(expected.MerchantId, actual.MerchantId);
        Assert.Equal(expected.Mcc, actual.Mcc);
        Assert.Equal(expected.Reason, actual.Reason);
        Assert.Equal(expected.Controls, actual.Controls);
        Assert.Equal(expected.Actor, actual.Actor);
        Assert.Equal(expected.PreviousAmountMinor, actual.PreviousAmountMinor);
    }

    private static LedgerEvent FullEvent(EventType type) => new()
    {
        Sequence = 123_456_789_012,
        TimestampUnixMs = LedgerHarness.T0 + 17,
        Type = type,
        Command = CommandType.Capture,
        Status = type == EventType.Declined ? Status.CaptureExceedsAuthorization : Status.Ok,
        RequestId = "req-\u007e!",
        PayloadFingerprint = 0xFEDC_BA98_7654_3210,
        AccountId = new string('A', 64),
        AuthorizationId = "auth-1",
        AmountMinor = long.MaxValue,
        HoldReleasedMinor = 42,
        ExpiresAtUnixMs = LedgerHarness.T0 + 7L * 24 * 3600 * 1000,
        AuthorizationClosed = true,
        Final = true,
        HeldMinor = 1,
        PostedMinor = long.MinValue,
        AvailableMinor = -5,
        CustomerId = "cust",
        CurrencyCode = CurrencyCode.Pack("ZZZ"),
        OvercapturePercent = 100,
        MerchantId = "merchant",
        Mcc = 9999,
        Reason = new string(' ', 3) + new string('r', CommandValidator.ReasonLengthMax - 3),
        Controls = new SpendingControls { MaxAuthorizationAmountMinor = 9, VelocityMaxCount = 8, VelocityMaxAmountMinor = 7, VelocityWindowSeconds = 6, BlockedMccs = [0, 5411, 9999] },
        Actor = new string('p', CommandValidator.IdLengthMax),
        PreviousAmountMinor = long.MinValue,
    };

    public static TheoryData<EventType> AllEventTypes()
    {
        var data = new TheoryData<EventType>();
        foreach (EventType type in Enum.GetValues<EventType>()) data.Add(type);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllEventTypes))]
    public void Every_event_type_round_trips_with_every_field(EventType type)
    {
        LedgerEvent e = FullEvent(type);
        AssertSameEvent(e, RoundTrip(e));
    }

    [Fact]
    public void Absent_and_empty_optional_strings_stay_distinct()
    {
        LedgerEvent absent = FullEvent(EventType.Refunded) with { AuthorizationId = null, CustomerId = null, MerchantId = null, Reason = null };
        LedgerEvent empty = FullEvent(EventType.Refunded) with { AuthorizationId = "", CustomerId = "", MerchantId = "", Reason = "" };

        LedgerEvent decodedAbsent = RoundTrip(absent);
        LedgerEvent decodedEmpty = RoundTrip(empty);

        Assert.Null(decodedAbsent.AuthorizationId);
        Assert.Null(decodedAbsent.CustomerId);
        Assert.Null(decodedAbsent.MerchantId);
        Assert.Null(decodedAbsent.Reason);
        Assert.Equal("", decodedEmpty.AuthorizationId);
        Assert.Equal("", decodedEmpty.CustomerId);
        Assert.Equal("", decodedEmpty.MerchantId);
        Assert.Equal("", decodedEmpty.Reason);
    }

    [Fact]
    public void Engine_generated_events_keep_their_empty_request_id()
    {
        LedgerEvent e = FullEvent(EventType.Expired) with { RequestId = "", Command = CommandType.Tick };
        Assert.Equal("", RoundTrip(e).RequestId);
    }

    [Fact]
    public void Controls_absent_empty_and_full_round_trip()
    {
        Assert.Null(RoundTrip(FullEvent(EventType.SpendingControlsSet) with { Controls = null }).Controls);

        LedgerEvent none = RoundTrip(FullEvent(EventType.SpendingControlsSet) with { Controls = SpendingControls.None });
        Assert.NotNull(none.Controls);
        Assert.Equal(SpendingControls.None, none.Controls);
        Assert.Empty(none.Controls!.BlockedMccs);

        var full = new SpendingControls
        {
            MaxAuthorizationAmountMinor = long.MaxValue,
            VelocityMaxCount = int.MaxValue,
            VelocityMaxAmountMinor = long.MaxValue,
            VelocityWindowSeconds = CommandValidator.VelocityWindowSecondsMax,
            BlockedMccs = Enumerable.Range(9999 - CommandValidator.BlockedMccCountMax + 1, CommandValidator.BlockedMccCountMax).ToArray(),
        };
        LedgerEvent decoded = RoundTrip(FullEvent(EventType.SpendingControlsSet) with { Controls = full });
        Assert.Equal(full, decoded.Controls);
        Assert.Equal(full.BlockedMccs, decoded.Controls!.BlockedMccs);
    }

    [Fact]
    public void Absent_mcc_round_trips_as_minus_one()
    {
        Assert.Equal(-1, RoundTrip(FullEvent(EventType.Authorized) with { Mcc = -1 }).Mcc);
    }

    [Fact]
    public void The_largest_valid_event_fits_EncodedSizeMax()
    {
        string id = new('x', CommandValidator.IdLengthMax);
        LedgerEvent e = FullEvent(EventType.SpendingControlsSet) with
        {
            RequestId = id, AccountId = id, AuthorizationId = id, CustomerId = id, MerchantId = id,
            Reason = new string('y', CommandValidator.ReasonLengthMax),
            Controls = new SpendingControls { BlockedMccs = Enumerable.Range(0, CommandValidator.BlockedMccCountMax).ToArray() },
        };
        AssertSameEvent(e, RoundTrip(e));
    }

    [Fact]
    public void Events_decode_back_to_back_from_one_buffer()
    {
        LedgerEvent[] events = [FullEvent(EventType.Authorized), FullEvent(EventType.Declined) with { Controls = null, Reason = null }, FullEvent(EventType.Expired)];
        var buffer = new byte[events.Length * EventCodec.EncodedSizeMax];
        int at = 0;
        foreach (LedgerEvent e in events) at += EventCodec.Encode(e, buffer.AsSpan(at));
        int read = 0;
        foreach (LedgerEvent e in events)
        {
            read += EventCodec.Decode(buffer.AsSpan(read, at - read), out LedgerEvent decoded);
            AssertSameEvent(e, decoded);
        }
        Assert.Equal(at, read);
    }

    [Fact]
    public void An_unknown_format_version_is_a_FormatException()
    {
        var buffer = new byte[EventCodec.EncodedSizeMax];
        int written = EventCodec.Encode(FullEvent(EventType.Authorized), buffer);
        buffer[0] = EventCodec.FormatVersion + 1;
        Assert.Throws<FormatException>(() => EventCodec.Decode(buffer.AsSpan(0, written), out _));
    }

    [Fact]
    public void Events_from_a_real_run_round_trip_and_rebuild_the_same_ledger()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 10_000, "EUR", overcapturePercent: 10);
        h.Execute(Command.SetSpendingControls(h.NextRequestId(), "acct-1", new SpendingControls { VelocityMaxCount = 10, VelocityWindowSeconds = 60, BlockedMccs = [7995] }));
        h.Execute(Command.SetTemporaryLimit(h.NextRequestId(), "acct-1", 500, h.Now + 60_000));
        h.Execute(Command.Authorize("a1", "acct-1", 1_000, "EUR", merchantId: "m", mcc: 5411, expiresInSeconds: 10));
        h.Execute(Command.Authorize("a2", "acct-1", 2_000, "EUR"));
        h.Execute(Command.Authorize("a3", "acct-1", 2_000, "EUR", mcc: 7995));
        h.Execute(Command.IncrementAuthorization(h.NextRequestId(), "a2", 100));
        h.Execute(Command.Capture(h.NextRequestId(), "a2", 2_200, final: false));
        h.Execute(Command.Refund(h.NextRequestId(), "acct-1", 200, "a2"));
        h.Execute(Command.Freeze(h.NextRequestId(), "acct-1", "check"));
        h.Execute(Command.Unfreeze(h.NextRequestId(), "acct-1", ""));
        h.Now += 10_000;
        h.Execute(Command.Tick());
        h.Execute(Command.Void(h.NextRequestId(), "a1"));
        h.Execute(Command.ForcePost(h.NextRequestId(), "acct-1", 5, mcc: 1));
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", 2_005));
        h.Execute(Command.ChangeLimit(h.NextRequestId(), "acct-1", 1));
        h.Execute(Command.SetSpendingControls(h.NextRequestId(), "acct-1", SpendingControls.None));
        h.Execute(Command.CloseAccount(h.NextRequestId(), "acct-1"));
        Assert.Equal(EventType.AccountClosed, h.Sink.Last.Type);

        var rebuilt = new Ledger();
        foreach (LedgerEvent e in h.Sink.Events)
        {
            LedgerEvent decoded = RoundTrip(e);
            AssertSameEvent(e, decoded);
            rebuilt.Apply(decoded);
        }
        rebuilt.CheckInvariants();
        Assert.Equal(h.Ledger.ComputeDigest(), rebuilt.ComputeDigest());
    }

    [Fact]
    public void Decoding_a_truncated_event_is_a_FormatException_at_every_length()
    {
        LedgerEvent e = new()
        {
            Sequence = 1, Type = EventType.SpendingControlsSet, RequestId = "r", AccountId = "a",
            Controls = new SpendingControls { BlockedMccs = [1, 2] },
        };
        var buffer = new byte[EventCodec.EncodedSizeMax];
        int written = EventCodec.Encode(e, buffer);
        var failures = new List<string>();
        for (int length = 0; length < written; length++)
        {
            try
            {
                EventCodec.Decode(buffer.AsSpan(0, length), out _);
                failures.Add($"{length}: decoded");
            }
            catch (FormatException) { }
            catch (Exception other) { failures.Add($"{length}: {other.GetType().Name}"); }
        }
        Assert.Empty(failures);
    }
}
