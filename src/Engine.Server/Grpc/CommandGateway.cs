using Credit.V1;
using Engine.Domain;
using Engine.Server.Hosting;
using Grpc.Core;
using DomainCommand = Engine.Domain.Command;

namespace Engine.Server.Grpc;

/// <summary>
/// The unary command path: map and validate the request (INVALID_ARGUMENT naming the field, nothing journaled),
/// honour an already expired deadline, submit without waiting for ring capacity (a full ring is
/// RESOURCE_EXHAUSTED at once, never a queue), and copy the durable reply into the response.
/// </summary>
public sealed class CommandGateway(EngineHost host)
{
    public async Task<TResponse> SubmitAsync<TRequest, TResponse>(TRequest request, Func<TRequest, DomainCommand> map, ServerCallContext context)
        where TResponse : ICommandReply, new()
    {
        host.ThrowIfReplica();
        DomainCommand command;
        try
        {
            command = map(request);
        }
        catch (InvalidCommandException e)
        {
            throw GrpcErrors.InvalidArgument(e.Error);
        }
        if (CommandKinds.IsAccountAdministration(command.Type)) command.Actor = AuditActor.Of(context);
        // Do not start work the caller has already given up on; once submitted, a command runs to completion
        // (the engine has no cancellation), and a retry with the same request_id gets its recorded reply.
        if (context.Deadline <= DateTime.UtcNow || context.CancellationToken.IsCancellationRequested)
            throw GrpcErrors.DeadlineExceeded("the deadline expired before the command was submitted");

        Reply reply;
        try
        {
            reply = await host.Engine.SubmitAsync(command, waitForCapacity: false).ConfigureAwait(false);
        }
        catch (InvalidCommandException e)
        {
            throw GrpcErrors.InvalidArgument(e.Error);
        }
        if (reply.Status == Engine.Domain.Status.EngineUnavailable) throw host.UnavailableError();
        return ReplyMapping.Fill(new TResponse(), reply);
    }
}
