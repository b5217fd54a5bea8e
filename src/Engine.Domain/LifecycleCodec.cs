using System.Buffers.Binary;

namespace Engine.Domain;

/// <summary>
/// Encoding of <see cref="LifecycleDetail"/> inside an event (after the docs/SPEC.md fields, behind flag 8):
/// <code>
/// u8 present (1 = billing, 2 = policy)
/// [billing: u8 mode | i32 payment_terms_days | i32 statement_day | i32 grace_days | i64 min_payment_floor | i32 min_payment_percent]
/// [policy: i32 remind_before_due_days | i32 watch_at_days | i32 freeze_at_days | i32 charge_off_at_days]
/// u16 n | (i64 due_at_unix_ms | i64 amount) × n
/// u8 funds_kind | u8 stage_before | u8 stage_after | i32 days_past_due
/// i64 deposit | i64 dues_paid | i64 past_due | i64 statement_balance | i64 minimum_payment | i64 due_at_unix_ms
/// </code>
/// </summary>
public static class LifecycleCodec
{
    public const int EncodedSizeMax = 1 + 25 + 16 + 2 + 16 * LifecycleValidator.ScheduledDuesMax + 7 + 48;

    public static void Write(in LifecycleDetail d, Span<byte> destination, ref int at)
    {
        destination[at++] = (byte)((d.Billing is not null ? 1 : 0) | (d.Policy is not null ? 2 : 0));
        if (d.Billing is { } billing)
        {
            destination[at++] = (byte)billing.Mode;
            Int32(destination, ref at, billing.PaymentTermsDays);
            Int32(destination, ref at, billing.StatementDay);
            Int32(destination, ref at, billing.GraceDays);
            Int64(destination, ref at, billing.MinPaymentFloorMinor);
            Int32(destination, ref at, billing.MinPaymentPercent);
        }
        if (d.Policy is { } policy)
        {
            Int32(destination, ref at, policy.RemindBeforeDueDays);
            Int32(destination, ref at, policy.WatchAtDays);
            Int32(destination, ref at, policy.FreezeAtDays);
            Int32(destination, ref at, policy.ChargeOffAtDays);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(destination[at..], (ushort)d.Dues.Length); at += 2;
        foreach (ScheduledDue due in d.Dues)
        {
            Int64(destination, ref at, due.DueAtUnixMs);
            Int64(destination, ref at, due.AmountMinor);
        }
        destination[at++] = (byte)d.FundsKind;
        destination[at++] = (byte)d.StageBefore;
        destination[at++] = (byte)d.StageAfter;
        Int32(destination, ref at, d.DaysPastDue);
        Int64(destination, ref at, d.DepositMinor);
        Int64(destination, ref at, d.DuesPaidMinor);
        Int64(destination, ref at, d.PastDueMinor);
        Int64(destination, ref at, d.StatementBalanceMinor);
        Int64(destination, ref at, d.MinimumPaymentMinor);
        Int64(destination, ref at, d.DueAtUnixMs);
    }

    public static LifecycleDetail Read(ReadOnlySpan<byte> source, ref int at)
    {
        byte present = source[at++];
        BillingTerms? billing = null;
        DelinquencyPolicy? policy = null;
        if ((present & 1) != 0)
        {
            billing = new BillingTerms
            {
                Mode = (BillingMode)source[at++],
                PaymentTermsDays = ReadInt32(source, ref at),
                StatementDay = ReadInt32(source, ref at),
                GraceDays = ReadInt32(source, ref at),
                MinPaymentFloorMinor = ReadInt64(source, ref at),
                MinPaymentPercent = ReadInt32(source, ref at),
            };
        }
        if ((present & 2) != 0)
        {
            policy = new DelinquencyPolicy
            {
                RemindBeforeDueDays = ReadInt32(source, ref at),
                WatchAtDays = ReadInt32(source, ref at),
                FreezeAtDays = ReadInt32(source, ref at),
                ChargeOffAtDays = ReadInt32(source, ref at),
            };
        }
        int count = BinaryPrimitives.ReadUInt16LittleEndian(source[at..]); at += 2;
        var dues = count == 0 ? [] : new ScheduledDue[count];
        for (int i = 0; i < count; i++) dues[i] = new ScheduledDue(ReadInt64(source, ref at), ReadInt64(source, ref at));
        var kind = (FundsKind)source[at++];
        var before = (DelinquencyStage)source[at++];
        var after = (DelinquencyStage)source[at++];
        int dpd = ReadInt32(source, ref at);
        return new LifecycleDetail
        {
            Billing = billing,
            Policy = policy,
            Dues = dues,
            FundsKind = kind,
            StageBefore = before,
            StageAfter = after,
            DaysPastDue = dpd,
            DepositMinor = ReadInt64(source, ref at),
            DuesPaidMinor = ReadInt64(source, ref at),
            PastDueMinor = ReadInt64(source, ref at),
            StatementBalanceMinor = ReadInt64(source, ref at),
            MinimumPaymentMinor = ReadInt64(source, ref at),
            DueAtUnixMs = ReadInt64(source, ref at),
        };
    }

    private static void Int32(Span<byte> destination, ref int at, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination[at..], value);
        at += 4;
    }

    private static void Int64(Span<byte> destination, ref int at, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination[at..], value);
        at += 8;
    }

    private static int ReadInt32(ReadOnlySpan<byte> source, ref int at)
    {
        int value = BinaryPrimitives.ReadInt32LittleEndian(source[at..]);
        at += 4;
        return value;
    }

    private static long ReadInt64(ReadOnlySpan<byte> source, ref int at)
    {
        long value = BinaryPrimitives.ReadInt64LittleEndian(source[at..]);
        at += 8;
        return value;
    }
}
