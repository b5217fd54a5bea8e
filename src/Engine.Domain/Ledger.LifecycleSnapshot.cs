namespace Engine.Domain;

/// <summary>Snapshot format of the lifecycle state (snapshot version 3).</summary>
public sealed partial class Ledger
{
    private static void WriteLifecycle(BinaryWriter writer, AccountLifecycle lifecycle)
    {
        BillingTerms billing = lifecycle.Billing;
        writer.Write((byte)billing.Mode);
        writer.Write(billing.PaymentTermsDays);
        writer.Write(billing.StatementDay);
        writer.Write(billing.GraceDays);
        writer.Write(billing.MinPaymentFloorMinor);
        writer.Write(billing.MinPaymentPercent);
        writer.Write(lifecycle.Policy is not null);
        if (lifecycle.Policy is { } policy)
        {
            writer.Write(policy.RemindBeforeDueDays);
            writer.Write(policy.WatchAtDays);
            writer.Write(policy.FreezeAtDays);
            writer.Write(policy.ChargeOffAtDays);
        }
        writer.Write((byte)lifecycle.Stage);
        writer.Write(lifecycle.DepositMinor);
        writer.Write(lifecycle.NextStatementAtUnixMs);
        writer.Write(lifecycle.LastStatement is not null);
        if (lifecycle.LastStatement is { } statement)
        {
            writer.Write(statement.ClosedAtUnixMs);
            writer.Write(statement.BalanceMinor);
            writer.Write(statement.MinimumPaymentMinor);
            writer.Write(statement.DueAtUnixMs);
        }
        writer.Write(lifecycle.Dues.Count);
        foreach (Due due in lifecycle.Dues)
        {
            writer.Write(due.DueDay);
            writer.Write(due.AmountMinor);
            writer.Write(due.PaidMinor);
            writer.Write(due.Reminded);
        }
    }

    private static AccountLifecycle ReadLifecycle(BinaryReader reader)
    {
        var lifecycle = new AccountLifecycle
        {
            Billing = new BillingTerms
            {
                Mode = (BillingMode)reader.ReadByte(),
                PaymentTermsDays = reader.ReadInt32(),
                StatementDay = reader.ReadInt32(),
                GraceDays = reader.ReadInt32(),
                MinPaymentFloorMinor = reader.ReadInt64(),
                MinPaymentPercent = reader.ReadInt32(),
            },
        };
        if (reader.ReadBoolean())
        {
            lifecycle.Policy = new DelinquencyPolicy
            {
                RemindBeforeDueDays = reader.ReadInt32(),
                WatchAtDays = reader.ReadInt32(),
                FreezeAtDays = reader.ReadInt32(),
                ChargeOffAtDays = reader.ReadInt32(),
            };
        }
        lifecycle.Stage = (DelinquencyStage)reader.ReadByte();
        lifecycle.DepositMinor = reader.ReadInt64();
        lifecycle.NextStatementAtUnixMs = reader.ReadInt64();
        if (reader.ReadBoolean())
            lifecycle.LastStatement = new StatementSummary(reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64());
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
            lifecycle.Dues.Add(new Due { DueDay = reader.ReadInt32(), AmountMinor = reader.ReadInt64(), PaidMinor = reader.ReadInt64(), Reminded = reader.ReadBoolean() });
        return lifecycle;
    }

    /// <summary>After loading a snapshot: one timer entry per lifecycle account (the index itself is not stored).</summary>
    private void RebuildLifecycleTimers()
    {
        for (int i = 0; i < _accountCount; i++)
        {
            if (_accounts[i].Lifecycle is { } lifecycle)
            {
                lifecycle.NextAtUnixMs = long.MaxValue;
                Reschedule(i, LastTimestampUnixMs);
            }
        }
    }
}
