using Credit.V1;
using Grpc.Core;

namespace Engine.Server.Grpc;

/// <summary>credit.v1.AccountService: administration. Each call is one command through <see cref="CommandGateway"/>.</summary>
public sealed class AccountGrpcService(CommandGateway gateway) : AccountService.AccountServiceBase
{
    public override Task<OpenAccountResponse> OpenAccount(OpenAccountRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<OpenAccountRequest, OpenAccountResponse>(request, CommandMapping.ToDomain, context);

    public override Task<ChangeLimitResponse> ChangeLimit(ChangeLimitRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<ChangeLimitRequest, ChangeLimitResponse>(request, CommandMapping.ToDomain, context);

    public override Task<SetTemporaryLimitResponse> SetTemporaryLimit(SetTemporaryLimitRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<SetTemporaryLimitRequest, SetTemporaryLimitResponse>(request, CommandMapping.ToDomain, context);

    public override Task<FreezeResponse> Freeze(FreezeRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<FreezeRequest, FreezeResponse>(request, CommandMapping.ToDomain, context);

    public override Task<UnfreezeResponse> Unfreeze(UnfreezeRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<UnfreezeRequest, UnfreezeResponse>(request, CommandMapping.ToDomain, context);

    public override Task<CloseAccountResponse> CloseAccount(CloseAccountRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<CloseAccountRequest, CloseAccountResponse>(request, CommandMapping.ToDomain, context);

    public override Task<SetSpendingControlsResponse> SetSpendingControls(SetSpendingControlsRequest request, ServerCallContext context) =>
        gateway.SubmitAsync<SetSpendingControlsRequest, SetSpendingControlsResponse>(request, CommandMapping.ToDomain, context);
}
