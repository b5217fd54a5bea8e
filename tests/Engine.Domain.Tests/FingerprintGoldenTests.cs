namespace Engine.Domain.Tests;

/// <summary>
/// Golden vectors: the keys and fingerprints existing logs, snapshots and idempotency records (memory and spill store)
/// were written with. The values were computed by the engine before keys moved to the producer (issue 10); a change
/// here means old request ids would no longer be recognised, so it must be a new format version, not an edit.
/// </summary>
public class FingerprintGoldenTests
{
    [Theory]
    [InlineData("req-1", 0x1B4BA5933BE80EDFUL, 0xE603E2C62117317DUL)]
    [InlineData("acct-0000001", 0xB26CA8A7BCA62E86UL, 0x69652AF896028DD5UL)]
    [InlineData("a1", 0xE2E0CCF0DCF64032UL, 0x11692920C84630CFUL)]
    [InlineData("order-2024-11-14/7f3a", 0xB3B15052B47B0108UL, 0x51EC68DD853EE773UL)]
    [InlineData("x", 0x734B60FA94CF74D0UL, 0xA68707A2DBD7ADADUL)]
    public void Request_keys_are_the_ones_existing_records_were_written_with(string id, ulong high, ulong low)
    {
        var expected = new UInt128(high, low);
        Assert.Equal(expected, Fingerprints.RequestKey(id));
        // Account and authorization ids use the same function, so an authorization's key is its Authorize's request key.
        Assert.Equal(expected, Fingerprints.IdKey(id));
    }

    [Fact]
    public void Absent_and_empty_ids_have_key_zero_meaning_none()
    {
        Assert.Equal(UInt128.Zero, Fingerprints.IdKey(null));
        Assert.Equal(UInt128.Zero, Fingerprints.IdKey(""));
    }

    public static TheoryData<string, ulong> Payloads() => new()
    {
        { "auth", 0x8E708D3292D63F7DUL },
        { "open", 0x9D68B84B0A678F68UL },
        { "capture", 0x411A5333DEC9FCACUL },
        { "refund", 0x46C932DECB203C01UL },
        { "controls", 0x7344711150406E38UL },
        { "freeze", 0x043E298E834386E1UL },
    };

    private static Command Sample(string name) => name switch
    {
        "auth" => Command.Authorize("a1", "acct-1", 1_000, "EUR", merchantId: "m", mcc: 5411, expiresInSeconds: 10),
        "open" => Command.OpenAccount("o1", "acct-1", "cust-1", "USD", 5_000, 10),
        "capture" => Command.Capture("c1", "a1", 700, final: true),
        "refund" => Command.Refund("f1", "acct-1", 50, "a1"),
        "controls" => Command.SetSpendingControls("s1", "acct-1", new SpendingControls { MaxAuthorizationAmountMinor = 900, VelocityMaxCount = 3, VelocityWindowSeconds = 60, BlockedMccs = [7995] }),
        "freeze" => Command.Freeze("z1", "acct-1", ""),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Payload_fingerprints_are_the_ones_existing_records_were_written_with(string name, ulong expected)
    {
        Command command = Sample(name);
        Assert.Equal(expected, Fingerprints.Payload(command));
        // Stamping adds keys to the command; they are not part of its payload.
        Fingerprints.StampKeys(ref command);
        Assert.Equal(expected, command.PayloadFingerprint);
        Assert.Equal(expected, Fingerprints.Payload(command));
    }

    [Fact]
    public void Stamping_a_command_computes_each_id_key_once_with_the_shared_functions()
    {
        Command command = Command.Refund("f1", "acct-1", 50, "a1");
        Fingerprints.StampKeys(ref command);
        Assert.True(command.KeysStamped);
        Assert.Equal(Fingerprints.RequestKey("f1"), command.RequestKey);
        Assert.Equal(Fingerprints.IdKey("acct-1"), command.AccountKey);
        Assert.Equal(new UInt128(0xE2E0CCF0DCF64032UL, 0x11692920C84630CFUL), command.AuthorizationKey);
    }

    [Fact]
    public void Decoding_an_event_stamps_the_keys_of_its_ids()
    {
        var e = new LedgerEvent
        {
            Sequence = 1, TimestampUnixMs = 5, Type = EventType.Authorized, Command = CommandType.Authorize, Status = Status.Ok,
            RequestId = "a1", AccountId = "acct-0000001", AuthorizationId = "a1", AmountMinor = 10, HeldMinor = 10, AvailableMinor = 90,
        };
        var buffer = new byte[EventCodec.EncodedSizeMax];
        EventCodec.Decode(buffer.AsSpan(0, EventCodec.Encode(e, buffer)), out LedgerEvent decoded);
        Assert.True(decoded.KeysStamped);
        Assert.Equal(new UInt128(0xE2E0CCF0DCF64032UL, 0x11692920C84630CFUL), decoded.RequestKey);
        Assert.Equal(decoded.RequestKey, decoded.AuthorizationKey);
        Assert.Equal(new UInt128(0xB26CA8A7BCA62E86UL, 0x69652AF896028DD5UL), decoded.AccountKey);
    }
}
