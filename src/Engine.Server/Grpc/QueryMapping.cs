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
        return new GetAccountResponse { Account = account, Sequence = view.Sequence };
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
