using Credit.V1;
using Engine.Domain;
using DomainCommand = Engine.Domain.Command;

namespace Engine.Server.Grpc;

/// <summary>Proto ↔ domain for the credit lifecycle (lifecycle_service.proto); shape checks by <see cref="CommandValidator"/>.</summary>
public static class LifecycleMapping
{
    public static Engine.Domain.BillingTerms ToDomain(Credit.V1.BillingTerms b)
    {
        if (!Enum.IsDefined((Engine.Domain.BillingMode)(int)b.Mode))
            throw new InvalidCommandException(new ValidationError("billing.mode", "must be NONE, TERMS or STATEMENT"));
        return new Engine.Domain.BillingTerms
        {
            Mode = (Engine.Domain.BillingMode)(int)b.Mode,
            PaymentTermsDays = b.PaymentTermsDays,
            StatementDay = b.StatementDay,
            GraceDays = b.HasGraceDays ? b.GraceDays : Engine.Domain.BillingTerms.DefaultGraceDays,
            MinPaymentFloorMinor = b.HasMinPaymentFloor ? b.MinPaymentFloor : Engine.Domain.BillingTerms.DefaultMinPaymentFloorMinor,
            MinPaymentPercent = b.HasMinPaymentPercent ? b.MinPaymentPercent : Engine.Domain.BillingTerms.DefaultMinPaymentPercent,
        };
    }

    public static DomainCommand ToDomain(SetBillingTermsRequest r)
    {
        if (r.Billing is null) throw new InvalidCommandException(new ValidationError("billing", "is required"));
        return Checked(DomainCommand.SetBillingTerms(r.RequestId, r.AccountId, ToDomain(r.Billing)), "billing.");
    }

    public static DomainCommand ToDomain(ScheduleDuesRequest r) =>
        Checked(DomainCommand.ScheduleDues(r.RequestId, r.AccountId, [.. r.Dues.Select(d => new Engine.Domain.ScheduledDue(d.DueAtUnixMs, d.Amount))]));

    public static DomainCommand ToDomain(SetDelinquencyPolicyRequest r) =>
        Checked(DomainCommand.SetDelinquencyPolicy(r.RequestId, r.AccountId, r.Policy is null ? null : new Engine.Domain.DelinquencyPolicy
        {
            RemindBeforeDueDays = r.Policy.RemindBeforeDueDays,
            WatchAtDays = r.Policy.WatchAtDays,
            FreezeAtDays = r.Policy.FreezeAtDays,
            ChargeOffAtDays = r.Policy.ChargeOffAtDays,
        }), "policy.");

    public static DomainCommand ToDomain(TopUpRequest r) =>
        Checked(DomainCommand.TopUp(r.RequestId, r.AccountId, r.Amount, r.Kind switch
        {
            Credit.V1.FundsKind.Prepaid => Engine.Domain.FundsKind.Prepaid,
            Credit.V1.FundsKind.Deposit => Engine.Domain.FundsKind.Deposit,
            _ => Engine.Domain.FundsKind.None,
        }));

    public static DomainCommand ToDomain(ReleaseDepositRequest r) => Checked(DomainCommand.ReleaseDeposit(r.RequestId, r.AccountId, r.Amount));

    public static DomainCommand ToDomain(ApplyDepositRequest r) => Checked(DomainCommand.ApplyDeposit(r.RequestId, r.AccountId, r.Amount));

    public static DomainCommand ToDomain(PayOutRequest r) => Checked(DomainCommand.PayOut(r.RequestId, r.AccountId, r.Amount));

    public static DomainCommand ToDomain(AdvanceClockRequest r) => Checked(DomainCommand.AdvanceClock(r.RequestId, r.AdvanceMs));

    private static DomainCommand Checked(DomainCommand command, string? nestedPrefix = null)
    {
        if (CommandValidator.Validate(command) is { } error)
        {
            if (nestedPrefix is not null && error.Field is not ("request_id" or "account_id" or "billing" or "policy"))
                error = error with { Field = nestedPrefix + error.Field };
            throw new InvalidCommandException(error);
        }
        return command;
    }

    public static Credit.V1.BillingTerms ToProto(Engine.Domain.BillingTerms b) => new()
    {
        Mode = (Credit.V1.BillingMode)(int)b.Mode,
        PaymentTermsDays = b.PaymentTermsDays,
        StatementDay = b.StatementDay,
        GraceDays = b.GraceDays,
        MinPaymentFloor = b.MinPaymentFloorMinor,
        MinPaymentPercent = b.MinPaymentPercent,
    };

    public static Credit.V1.DelinquencyPolicy ToProto(Engine.Domain.DelinquencyPolicy p) => new()
    {
        RemindBeforeDueDays = p.RemindBeforeDueDays,
        WatchAtDays = p.WatchAtDays,
        FreezeAtDays = p.FreezeAtDays,
        ChargeOffAtDays = p.ChargeOffAtDays,
    };

    public static Credit.V1.LifecycleDetail ToProto(Engine.Domain.LifecycleDetail d)
    {
        var proto = new Credit.V1.LifecycleDetail
        {
            FundsKind = (Credit.V1.FundsKind)(int)d.FundsKind,
            Deposit = d.DepositMinor,
            DuesPaid = d.DuesPaidMinor,
            StageBefore = (Credit.V1.DelinquencyStage)(int)d.StageBefore,
            StageAfter = (Credit.V1.DelinquencyStage)(int)d.StageAfter,
            DaysPastDue = d.DaysPastDue,
            PastDue = d.PastDueMinor,
            StatementBalance = d.StatementBalanceMinor,
            MinimumPayment = d.MinimumPaymentMinor,
            DueAtUnixMs = d.DueAtUnixMs,
        };
        if (d.Billing is { } billing) proto.Billing = ToProto(billing);
        if (d.Policy is { } policy) proto.Policy = ToProto(policy);
        foreach (Engine.Domain.ScheduledDue due in d.Dues) proto.Dues.Add(new Credit.V1.ScheduledDue { DueAtUnixMs = due.DueAtUnixMs, Amount = due.AmountMinor });
        return proto;
    }
}
