using System.Globalization;
using Credit.V1;
using Engine.ReadModel;
using ProtoAuthorizationView = Credit.V1.AuthorizationView;

namespace Engine.Server.Grpc;

/// <summary>The read model's views (<see cref="Engine.ReadModel"/>) → the query service's responses.</summary>
public static class QueryMapping
{
    public static GetAccountResponse ToProto(AccountView view)
    {
        var account = new Credit.V1.Account
        {
            AccountId = view.AccountId,
            CustomerId = view.CustomerId,
            Currency = view.Currency,
            Status = EnumMapping.ToProto(view.Status),
            CreditLimit = view.CreditLimitMinor,
            TemporaryLimit = view.TemporaryLimitMinor,
            TemporaryLimitExpiresAtUnixMs = view.TemporaryLimitExpiresAtUnixMs,
            TemporaryLimitActive = view.TemporaryLimitActive,
            Held = view.HeldMinor,
            Posted = view.PostedMinor,
            Available = view.AvailableMinor,
            OvercapturePercent = view.OvercapturePercent,
            OpenAuthorizationCount = view.OpenAuthorizationCount,
        };
        if (view.Controls is { } controls) account.Controls = EventMapping.ToProto(controls);
        if (view.Lifecycle is { } lifecycle) account.Lifecycle = ToProto(lifecycle);
        return new GetAccountResponse { Account = account, Sequence = view.Sequence };
    }

    public static AccountLifecycle ToProto(LifecycleView view)
    {
        var proto = new AccountLifecycle
        {
            Billing = LifecycleMapping.ToProto(view.Billing),
            Policy = LifecycleMapping.ToProto(view.Policy),
            Stage = (Credit.V1.DelinquencyStage)(int)view.Stage,
            FrozenManually = view.FrozenManually,
            FrozenForDelinquency = view.FrozenForDelinquency,
            Deposit = view.DepositMinor,
            DaysPastDue = view.DaysPastDue,
            PastDue = view.PastDueMinor,
            AsOfUnixMs = view.AsOfUnixMs,
        };
        foreach (Engine.ReadModel.DueView due in view.Dues) proto.Dues.Add(new Credit.V1.DueView { DueAtUnixMs = due.DueAtUnixMs, Amount = due.AmountMinor, Paid = due.PaidMinor });
        proto.Aging.AddRange(view.AgingMinor);
        if (view.LastStatement is { } statement)
            proto.LastStatement = new StatementView { ClosedAtUnixMs = statement.ClosedAtUnixMs, Balance = statement.BalanceMinor, MinimumPayment = statement.MinimumPaymentMinor, DueAtUnixMs = statement.DueAtUnixMs };
        return proto;
    }

    public static ListAuthorizationsResponse ToProto(AuthorizationPage page)
    {
        var response = new ListAuthorizationsResponse { Sequence = page.Sequence };
        foreach (Engine.ReadModel.AuthorizationView authorization in page.Authorizations)
        {
            response.Authorizations.Add(new ProtoAuthorizationView
            {
                AuthorizationId = authorization.AuthorizationId,
                AccountId = authorization.AccountId,
                State = EnumMapping.ToProto(authorization.State),
                AuthorizedAmount = authorization.AuthorizedMinor,
                Held = authorization.HeldMinor,
                Captured = authorization.CapturedMinor,
                Refunded = authorization.RefundedMinor,
                Reversed = authorization.ReversedMinor,
                ExpiresAtUnixMs = authorization.ExpiresAtUnixMs,
                ClosedAtUnixMs = authorization.ClosedAtUnixMs,
                CreatedSequence = authorization.CreatedSequence,
            });
        }
        // The page token is the created sequence the next page starts after, in decimal.
        if (page.NextAfterCreatedSequence is { } next) response.NextPageToken = next.ToString(CultureInfo.InvariantCulture);
        return response;
    }

    public static ListEventsResponse ToProto(EventPage page)
    {
        var response = new ListEventsResponse
        {
            Sequence = page.Sequence,
            NextFromSequence = page.NextFromSequence,
            OldestRetainedSequence = page.OldestRetainedSequence,
        };
        foreach (Engine.Domain.LedgerEvent e in page.Events) response.Events.Add(EventMapping.ToProto(e));
        return response;
    }
}
