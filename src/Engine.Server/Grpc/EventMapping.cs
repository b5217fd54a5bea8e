using Engine.Domain;
using ProtoEvent = Credit.V1.LedgerEvent;

namespace Engine.Server.Grpc;

/// <summary>Domain ledger events → the proto <c>LedgerEvent</c> of docs/SPEC.md "Events".</summary>
public static class EventMapping
{
    public static ProtoEvent ToProto(in LedgerEvent e)
    {
        var proto = new ProtoEvent
        {
            Sequence = e.Sequence,
            TimestampUnixMs = e.TimestampUnixMs,
            Type = EnumMapping.ToProto(e.Type),
            Command = EnumMapping.ToProto(e.Command),
            Status = EnumMapping.ToProto(e.Status),
            ResponseCode = ResponseCodes.For(e.Status),
            RequestId = e.RequestId ?? "",
            AccountId = e.AccountId ?? "",
            AuthorizationId = e.AuthorizationId ?? "",
            Amount = e.AmountMinor,
            HoldReleased = e.HoldReleasedMinor,
            ExpiresAtUnixMs = e.ExpiresAtUnixMs,
            AuthorizationClosed = e.AuthorizationClosed,
            Final = e.Final,
            Held = e.HeldMinor,
            Posted = e.PostedMinor,
            Available = e.AvailableMinor,
            CustomerId = e.CustomerId ?? "",
            Currency = CurrencyCode.Unpack(e.CurrencyCode),
            OvercapturePercent = e.OvercapturePercent,
            MerchantId = e.MerchantId ?? "",
            Reason = e.Reason ?? "",
            Actor = e.Actor ?? "",
        };
        if (e.PreviousAmountMinor is { } previous) proto.PreviousAmount = previous;
        // Only Authorize and ForcePost carry a merchant category; -1 records its absence.
        if (e.Mcc >= 0 && e.Command is CommandType.Authorize or CommandType.ForcePost) proto.Mcc = e.Mcc;
        if (e.Controls is { } controls) proto.Controls = ToProto(controls);
        if (e.Lifecycle is { } lifecycle) proto.Lifecycle = LifecycleMapping.ToProto(lifecycle);
        return proto;
    }

    public static Credit.V1.SpendingControls ToProto(Engine.Domain.SpendingControls controls) => new()
    {
        MaxAuthorizationAmount = controls.MaxAuthorizationAmountMinor,
        VelocityMaxCount = controls.VelocityMaxCount,
        VelocityMaxAmount = controls.VelocityMaxAmountMinor,
        VelocityWindowSeconds = controls.VelocityWindowSeconds,
        BlockedMccs = { controls.BlockedMccs },
    };
}
