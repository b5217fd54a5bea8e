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

public class SnapshotCompatibilityTests
{
    // A version-2 snapshot written by the engine before keys moved to the producer (commit 928cd9d): account acct-1,
    // open authorization a1 (1,000 held), closed a2 (captured 500), request ids o1 a1 a2 c1 r1.
    private const string Version2SnapshotBase64 =
        "TFNOUAIAAAAFAAAAAAAAAARo5c+LAQAAAQAAAAZhY2N0LTEGY3VzdC0xECcAAAAAAAAAAAAAAAAAAAAAAAAAAAAA6AMAAAAAAAAsAQAAAAAAAAEAAACoNgAKAAEAAAACYTIAAAAAAwAAAAAAAAD0AQAAAAAAAAAAAAAAAAAA9AEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAYlLmz4sBAAADaOXPiwEAAAEBAAAAAmExAAAAAAIAAAAAAAAA6AMAAAAAAADoAwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAHs8fOLAQAAAAAAAAAAAAAAAf/t0zxKo1Jp4gAxgAyTdkUg1848upSBgwEAAAAAAAAAAGjlz4sBAAAQJwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAATJA9tzwzODizzBGyCApaRFBJyfFEJYkbQIAAAAAAAAAAWjlz4sBAAAoIwAAAAAAAOgDAAAAAAAAAAAAAAAAAAAAAcNZH6Whe6NodNzM/YokCYYa5WHly4NGSwMAAAAAAAAAAmjlz4sBAAA0IQAAAAAAANwFAAAAAAAAAAAAAAAAAAAAAecIE16a9uJAi3nXf6dZ8s30Pp1EsGb+sAQAAAAAAAAAA2jlz4sBAAA0IQAAAAAAAOgDAAAAAAAA9AEAAAAAAAAAAZIr7wMS440Mun746g78ssf8Vk1AKWeD3wUAAAAAAAAABGjlz4sBAAD8IQAAAAAAAOgDAAAAAAAALAEAAAAAAAAAAExTTlA=";

    [Fact]
    public void A_version_2_snapshot_from_before_keyed_tables_loads_with_the_same_digest_and_remembers_its_requests()
    {
        Ledger ledger = Ledger.ReadSnapshot(new MemoryStream(Convert.FromBase64String(Version2SnapshotBase64)));

        Assert.Equal(new UInt128(0xBF44F5EBFD41163AUL, 0x317258DB81BFCB46UL), ledger.ComputeDigest());
        ledger.CheckInvariants();
        Assert.True(ledger.TryGetAccount("acct-1", out Account account));
        Assert.Equal(1_000, account.HeldMinor);
        Assert.True(ledger.TryGetAuthorization("a1", out Authorization? open));
        Assert.Equal(AuthorizationState.Open, open.State);
        var h = new LedgerHarness(ledger) { Now = 1_700_000_000_010 };
        // Exactly-once across the change: a retry of a recorded request is answered from the record, not run again.
        Reply retry = h.Execute(Command.Authorize("a1", "acct-1", 1_000, "USD"));
        Assert.True(retry.Replayed);
        Assert.Equal(Status.Ok, retry.Status);
        // And the restored indexes serve new decisions: capture the open authorization by its id.
        Assert.Equal(Status.Ok, h.Execute(Command.Capture("c2", "a1", 1_000, final: true)).Status);
        Assert.Equal(Status.RequestIdReused, h.Execute(Command.Authorize("o1", "acct-1", 5, "USD")).Status);
    }
}
