namespace Engine.Domain;

/// <summary>Shape checks of the credit lifecycle commands (docs/LIFECYCLE.md); field names as in the protos.</summary>
public static class LifecycleValidator
{
    public const int ScheduledDuesMax = 360;
    /// <summary>Longest single AdvanceClock step: 10 years.</summary>
    public const long AdvanceClockMsMax = 3660L * 86_400_000;

    public static ValidationError? Validate(in Command command)
    {
        if (command.Type != CommandType.AdvanceClock && CommandValidator.CheckId(command.AccountId, "account_id", required: true) is { } accountError)
            return accountError;
        switch (command.Type)
        {
            case CommandType.SetBillingTerms:
                return command.Billing is null ? new ValidationError("billing", "is required") : CheckBilling(command.Billing);
            case CommandType.ScheduleDues:
                return CheckDues(command.Dues);
            case CommandType.SetDelinquencyPolicy:
                return command.Policy is null ? null : CheckPolicy(command.Policy);
            case CommandType.TopUp:
                return Positive(command.AmountMinor, "amount")
                    ?? (command.FundsKind is FundsKind.Prepaid or FundsKind.Deposit ? null : new ValidationError("kind", "must be PREPAID or DEPOSIT"));
            case CommandType.ReleaseDeposit:
            case CommandType.ApplyDeposit:
            case CommandType.PayOut:
                return Positive(command.AmountMinor, "amount");
            case CommandType.AdvanceClock:
                return command.AmountMinor is > 0 and <= AdvanceClockMsMax ? null : new ValidationError("advance_ms", $"must be 1..{AdvanceClockMsMax} (time never goes back)");
            default:
                return new ValidationError("command", $"unknown command type {(int)command.Type}");
        }
    }

    public static ValidationError? CheckBilling(BillingTerms billing)
    {
        switch (billing.Mode)
        {
            case BillingMode.None:
                return null;
            case BillingMode.Terms:
                return billing.PaymentTermsDays is < 0 or > BillingTerms.DaysMax ? new ValidationError("payment_terms_days", $"must be 0..{BillingTerms.DaysMax}") : null;
            case BillingMode.Statement:
                if (billing.StatementDay is < 1 or > BillingTerms.StatementDayMax) return new ValidationError("statement_day", $"must be 1..{BillingTerms.StatementDayMax}");
                if (billing.GraceDays is < 0 or > BillingTerms.DaysMax) return new ValidationError("grace_days", $"must be 0..{BillingTerms.DaysMax}");
                if (billing.MinPaymentFloorMinor < 0) return new ValidationError("min_payment_floor", "must be >= 0 minor units");
                if (billing.MinPaymentPercent is < 0 or > 100) return new ValidationError("min_payment_percent", "must be 0..100");
                return null;
            default:
                return new ValidationError("billing_mode", "must be NONE, TERMS or STATEMENT");
        }
    }

    public static ValidationError? CheckPolicy(DelinquencyPolicy policy)
    {
        if (policy.RemindBeforeDueDays is < 0 or > DelinquencyPolicy.DaysMax) return new ValidationError("remind_before_due_days", $"must be 0..{DelinquencyPolicy.DaysMax}");
        if (policy.WatchAtDays is < 0 or > DelinquencyPolicy.DaysMax) return new ValidationError("watch_at_days", $"must be 0..{DelinquencyPolicy.DaysMax}");
        if (policy.FreezeAtDays is < 0 or > DelinquencyPolicy.DaysMax) return new ValidationError("freeze_at_days", $"must be 0..{DelinquencyPolicy.DaysMax}");
        if (policy.ChargeOffAtDays is < 0 or > DelinquencyPolicy.DaysMax) return new ValidationError("charge_off_at_days", $"must be 0..{DelinquencyPolicy.DaysMax}");
        return null;
    }

    private static ValidationError? CheckDues(ScheduledDue[]? dues)
    {
        if (dues is null || dues.Length == 0) return new ValidationError("dues", "is required (1-360 items)");
        if (dues.Length > ScheduledDuesMax) return new ValidationError("dues", $"has {dues.Length} items; at most {ScheduledDuesMax} allowed");
        for (int i = 0; i < dues.Length; i++)
        {
            if (dues[i].DueAtUnixMs <= 0) return new ValidationError("dues.due_at_unix_ms", $"item {i}: must be > 0");
            if (dues[i].AmountMinor <= 0) return new ValidationError("dues.amount", $"item {i}: must be > 0 minor units");
        }
        return null;
    }

    private static ValidationError? Positive(long amount, string field) =>
        amount > 0 ? null : new ValidationError(field, $"must be > 0 minor units (was {amount})");
}
