using Credit.V1;
using Grpc.Core;

namespace Engine.Server.Grpc;

/// <summary>credit.v1.AuthorizationService: the card-switch path. Each call is one command through <see cref="CommandGateway"/>.</summary>
public sealed class AuthorizationGrpcService(CommandGateway gateway) : AuthorizationService.AuthorizationServiceBase
{
    public override async Task<AuthorizeResponse> Authorize(AuthorizeRequest request, ServerCallContext context)
    {
        AuthorizeResponse response = await gateway.SubmitAsync<AuthorizeRequest, AuthorizeResponse>(request, CommandMapping.ToDomain, context);
        // docs/SPEC.md: an authorization is referred to later by the request_id of the Authorize that created it.
        if (response.Approved) response.AuthorizationId = request.RequestId;
        return response;
    }

    public override Task<IncrementAuthorizationResponse> IncrementAuthorization(IncrementAuthorizationRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<IncrementAuthorizationRequest, IncrementAuthorizationResponse>(request, CommandMapping.ToDomain, context);

    public override Task<CaptureResponse> Capture(CaptureRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<CaptureRequest, CaptureResponse>(request, CommandMapping.ToDomain, context);

    public override Task<VoidResponse> Void(VoidRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<VoidRequest, VoidResponse>(request, CommandMapping.ToDomain, context);

    public override Task<ForcePostResponse> ForcePost(ForcePostRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<ForcePostRequest, ForcePostResponse>(request, CommandMapping.ToDomain, context);

    public override Task<RefundResponse> Refund(RefundRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<RefundRequest, RefundResponse>(request, CommandMapping.ToDomain, context);

    public override Task<RepayResponse> Repay(RepayRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<RepayRequest, RepayResponse>(request, CommandMapping.ToDomain, context);
}
