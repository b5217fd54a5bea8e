namespace Engine.Domain.Tests;

/// <summary>
/// The audit trail in events: an account-administration command's principal (<see cref="Command.Actor"/>) and, for
/// limit changes, the value replaced, so one event says who changed what, when, from what to what.
/// </summary>
public sealed class AuditTrailTests
{
    [Fact]
    public void A_limit_change_records_its_actor_and_the_limit_it_replaced()
    {
        var ledger = new LedgerHarness();
        ledger.Execute(Command.OpenAccount("open", "acct", "cust", "USD", 1_000) with { Actor = "onboarding" });

        LedgerEvent changed = ledger.Single(Command.ChangeLimit("raise", "acct", 5_000) with { Actor = "risk-officer-7" });

        Assert.Equal(EventType.LimitChanged, changed.Type);
        Assert.Equal("risk-officer-7", changed.Actor);
        Assert.Equal(1_000, changed.PreviousAmountMinor);
        Assert.Equal(5_000, changed.AmountMinor);
        LedgerEvent decoded = EventCodecTests.RoundTrip(changed);
        Assert.Equal("risk-officer-7", decoded.Actor);
        Assert.Equal(1_000, decoded.PreviousAmountMinor);
    }

    [Fact]
    public void A_temporary_limit_records_the_temporary_limit_it_replaced()
    {
        var ledger = new LedgerHarness();
        ledger.Execute(Command.OpenAccount("open", "acct", "cust", "USD", 1_000));
        ledger.Execute(Command.SetTemporaryLimit("t1", "acct", 300, LedgerHarness.T0 + 86_400_000));

        LedgerEvent second = ledger.Single(Command.SetTemporaryLimit("t2", "acct", 700, LedgerHarness.T0 + 86_400_000) with { Actor = "desk" });

        Assert.Equal(EventType.TemporaryLimitSet, second.Type);
        Assert.Equal(300, second.PreviousAmountMinor);
        Assert.Equal("desk", second.Actor);
    }

    [Fact]
    public void A_declined_administration_command_records_who_tried_and_no_previous_value()
    {
        var ledger = new LedgerHarness();

        LedgerEvent declined = ledger.Single(Command.ChangeLimit("raise", "missing", 5_000) with { Actor = "intruder" });

        Assert.Equal(EventType.Declined, declined.Type);
        Assert.Equal(Status.AccountNotFound, declined.Status);
        Assert.Equal("intruder", declined.Actor);
        Assert.Null(declined.PreviousAmountMinor);
    }

    [Fact]
    public void An_event_without_audit_fields_encodes_to_the_bytes_it_had_before_the_audit_trail()
    {
        var ledger = new LedgerHarness();
        LedgerEvent opened = ledger.Single(Command.OpenAccount("open", "acct", "cust", "USD", 1_000));
        var withoutAudit = new byte[EventCodec.EncodedSizeMax];
        var withAudit = new byte[EventCodec.EncodedSizeMax];

        int plain = EventCodec.Encode(opened, withoutAudit);
        int audited = EventCodec.Encode(opened with { Actor = "a", PreviousAmountMinor = 1 }, withAudit);

        // Flags 16 and 32 stay clear, nothing is appended: logs written before the audit trail read back unchanged,
        // and an event of the old format decodes with no actor.
        Assert.Equal(0, withoutAudit[4] & (16 | 32));
        Assert.Equal(plain + 2 + 1 + 8, audited);
        EventCodec.Decode(withoutAudit.AsSpan(0, plain), out LedgerEvent decoded);
        Assert.Null(decoded.Actor);
        Assert.Null(decoded.PreviousAmountMinor);
    }

    [Fact]
    public void The_actor_is_not_part_of_the_payload_so_a_retry_by_another_principal_replays()
    {
        var ledger = new LedgerHarness();
        ledger.Execute(Command.OpenAccount("open", "acct", "cust", "USD", 1_000));
        Reply first = ledger.Execute(Command.ChangeLimit("raise", "acct", 5_000) with { Actor = "key-a" });

        Reply retry = ledger.Execute(Command.ChangeLimit("raise", "acct", 5_000) with { Actor = "key-b" });

        Assert.Equal(Status.Ok, first.Status);
        Assert.True(retry.Replayed);
        Assert.Equal(first.Sequence, retry.Sequence);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("\u00e9")]
    public void A_malformed_actor_is_refused_naming_the_field(string actor)
    {
        ValidationError? error = CommandValidator.Validate(Command.ChangeLimit("raise", "acct", 5) with { Actor = actor });

        Assert.NotNull(error);
        Assert.Equal("actor", error!.Value.Field);
    }

    [Fact]
    public void Account_administration_and_the_authorization_path_partition_every_client_command()
    {
        foreach (CommandType type in Enum.GetValues<CommandType>())
        {
            if (type is CommandType.None or CommandType.Tick) continue;
            Assert.True(CommandKinds.IsAccountAdministration(type) ^ CommandKinds.IsAuthorizationPath(type), $"{type} must be in exactly one kind");
        }
    }
}
