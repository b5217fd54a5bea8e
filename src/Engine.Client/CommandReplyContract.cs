namespace Credit.V1;

/// <summary>
/// The reply fields every command response carries (docs/SPEC.md "The gRPC interface"). Each response message
/// of the credit.v1 API implements it, so servers fill and clients read replies without caring which
/// command they answer.
/// </summary>
public interface ICommandReply
{
    /// <summary>True when <see cref="Status"/> is <see cref="Credit.V1.Status.Ok"/>.</summary>
    bool Approved { get; set; }
    /// <summary>The outcome: OK or the decline / refusal reason.</summary>
    Status Status { get; set; }
    /// <summary>ISO 8583 response code of <see cref="Status"/>.</summary>
    string ResponseCode { get; set; }
    /// <summary>Available credit right after the decision, minor units.</summary>
    long Available { get; set; }
    /// <summary>Sum of open holds right after the decision, minor units.</summary>
    long Held { get; set; }
    /// <summary>Posted balance right after the decision, minor units.</summary>
    long Posted { get; set; }
    /// <summary>Engine sequence of the outcome's event.</summary>
    long Sequence { get; set; }
    /// <summary>True when this is a stored reply to an earlier identical request.</summary>
    bool Replayed { get; set; }
}

/// <summary>A request that carries the idempotency key.</summary>
public interface IIdempotentRequest
{
    /// <summary>The idempotency key: 1–64 printable ASCII characters.</summary>
    string RequestId { get; set; }
}

public partial class AuthorizeResponse : ICommandReply;
public partial class IncrementAuthorizationResponse : ICommandReply;
public partial class CaptureResponse : ICommandReply;
public partial class VoidResponse : ICommandReply;
public partial class ForcePostResponse : ICommandReply;
public partial class RefundResponse : ICommandReply;
public partial class RepayResponse : ICommandReply;
public partial class OpenAccountResponse : ICommandReply;
public partial class ChangeLimitResponse : ICommandReply;
public partial class SetTemporaryLimitResponse : ICommandReply;
public partial class FreezeResponse : ICommandReply;
public partial class UnfreezeResponse : ICommandReply;
public partial class CloseAccountResponse : ICommandReply;
public partial class SetSpendingControlsResponse : ICommandReply;
public partial class CommandReply : ICommandReply;

public partial class AuthorizeRequest : IIdempotentRequest;
public partial class IncrementAuthorizationRequest : IIdempotentRequest;
public partial class CaptureRequest : IIdempotentRequest;
public partial class VoidRequest : IIdempotentRequest;
public partial class ForcePostRequest : IIdempotentRequest;
public partial class RefundRequest : IIdempotentRequest;
public partial class RepayRequest : IIdempotentRequest;
public partial class OpenAccountRequest : IIdempotentRequest;
public partial class ChangeLimitRequest : IIdempotentRequest;
public partial class SetTemporaryLimitRequest : IIdempotentRequest;
public partial class FreezeRequest : IIdempotentRequest;
public partial class UnfreezeRequest : IIdempotentRequest;
public partial class CloseAccountRequest : IIdempotentRequest;
public partial class SetSpendingControlsRequest : IIdempotentRequest;

// Credit lifecycle (lifecycle_service.proto).
public partial class LifecycleCommandResponse : ICommandReply;
public partial class SetBillingTermsRequest : IIdempotentRequest;
public partial class ScheduleDuesRequest : IIdempotentRequest;
public partial class SetDelinquencyPolicyRequest : IIdempotentRequest;
public partial class TopUpRequest : IIdempotentRequest;
public partial class ReleaseDepositRequest : IIdempotentRequest;
public partial class ApplyDepositRequest : IIdempotentRequest;
public partial class PayOutRequest : IIdempotentRequest;
public partial class AdvanceClockRequest : IIdempotentRequest;
