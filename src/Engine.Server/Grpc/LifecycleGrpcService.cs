using Credit.V1;
using Grpc.Core;
using Microsoft.Extensions.Configuration;

namespace Engine.Server.Grpc;

/// <summary>credit.v1.LifecycleService: the credit lifecycle commands, each one command through <see cref="CommandGateway"/>.</summary>
public sealed class LifecycleGrpcService(CommandGateway gateway, IConfiguration configuration) : LifecycleService.LifecycleServiceBase
{
    /// <summary>The setting that enables test clocks; off unless set to true.</summary>
    public const string AllowAdvanceSetting = "Engine:Clock:AllowAdvance";

    private readonly bool _allowAdvance = configuration.GetValue(AllowAdvanceSetting, false);

    public override Task<LifecycleCommandResponse> SetBillingTerms(SetBillingTermsRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<SetBillingTermsRequest, LifecycleCommandResponse>(request, LifecycleMapping.ToDomain, context);

    public override Task<LifecycleCommandResponse> ScheduleDues(ScheduleDuesRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<ScheduleDuesRequest, LifecycleCommandResponse>(request, LifecycleMapping.ToDomain, context);

    public override Task<LifecycleCommandResponse> SetDelinquencyPolicy(SetDelinquencyPolicyRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<SetDelinquencyPolicyRequest, LifecycleCommandResponse>(request, LifecycleMapping.ToDomain, context);

    public override Task<LifecycleCommandResponse> TopUp(TopUpRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<TopUpRequest, LifecycleCommandResponse>(request, LifecycleMapping.ToDomain, context);

    public override Task<LifecycleCommandResponse> ReleaseDeposit(ReleaseDepositRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<ReleaseDepositRequest, LifecycleCommandResponse>(request, LifecycleMapping.ToDomain, context);

    public override Task<LifecycleCommandResponse> ApplyDeposit(ApplyDepositRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<ApplyDepositRequest, LifecycleCommandResponse>(request, LifecycleMapping.ToDomain, context);

    public override Task<LifecycleCommandResponse> PayOut(PayOutRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<PayOutRequest, LifecycleCommandResponse>(request, LifecycleMapping.ToDomain, context);

    public override Task<LifecycleCommandResponse> AdvanceClock(AdvanceClockRequest request, ServerCallContext context)
    {
        if (!_allowAdvance)
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.FailedPrecondition, $"test clocks are off: AdvanceClock needs {AllowAdvanceSetting}=true (test environments only)"));
        return gateway.SubmitAsync<AdvanceClockRequest, LifecycleCommandResponse>(request, LifecycleMapping.ToDomain, context);
    }
}
