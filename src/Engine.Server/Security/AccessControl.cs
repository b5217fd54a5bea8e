using Credit.V1;
using Engine.Server.Grpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Status = Grpc.Core.Status;

namespace Engine.Server.Security;

/// <summary>
/// The gRPC server interceptor that enforces <see cref="AccessPolicy"/> on every call (installed only when keys are
/// configured; README "Access control"). No credentials or unknown ones → UNAUTHENTICATED; a principal without the
/// rule's role → PERMISSION_DENIED naming the role (the authentication statuses of docs/SPEC.md "API"). <c>Execute</c> is checked batch by batch as the stream is read:
/// a batch with a command its principal may not send ends the stream with PERMISSION_DENIED before any of that batch
/// reaches the engine (replies to earlier batches still go out, as for any refused batch).
/// </summary>
public sealed class AccessControl(AccessAuthentication authentication) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context, request);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context, request);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context, null);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        (AccessRule rule, AccessPrincipal? principal) = Check(context, null);
        if (rule.Kind == AccessRuleKind.EachCommand && principal is not null)
            requestStream = new CheckedBatches<TRequest>(requestStream, principal, context.Method);
        return continuation(requestStream, responseStream, context);
    }

    /// <summary>Applies the method's rule; throws the refusal. Returns the rule and the principal (null for open methods).</summary>
    private (AccessRule Rule, AccessPrincipal? Principal) Check(ServerCallContext context, object? request)
    {
        AccessRule rule = AccessPolicy.RuleOf(context.Method)
            ?? throw new RpcException(new Status(StatusCode.PermissionDenied, $"{context.Method} has no access rule; nobody may call it"));
        if (rule.Kind == AccessRuleKind.Open) return (rule, null);
        AuthenticationResult result = authentication.Authenticate(context.GetHttpContext());
        AccessPrincipal principal = result.Principal ?? throw new RpcException(new Status(StatusCode.Unauthenticated, result.Failure ?? "not authenticated"));
        switch (rule.Kind)
        {
            case AccessRuleKind.AnyRole or AccessRuleKind.EachCommand:
                // Execute: a principal that may send no command at all is refused at once; each batch is checked as it comes.
                if (!principal.HasAnyRole(rule.Roles)) throw Denied(principal, rule.RolesText, context.Method);
                break;
            case AccessRuleKind.SubscribeByFormat:
                string role = request is SubscribeRequest { Format: SubscribeFormat.EventBlocks } ? AccessRoles.Replica : AccessRoles.Reader;
                if (!principal.HasRole(role)) throw Denied(principal, $"'{role}'", role == AccessRoles.Replica ? context.Method + " in EVENT_BLOCKS format" : context.Method);
                break;
        }
        return (rule, principal);
    }

    internal static RpcException Denied(AccessPrincipal principal, string rolesText, string what) =>
        new(new Status(StatusCode.PermissionDenied, $"principal '{principal.Name}' lacks the role {rolesText} needed for {what.TrimStart('/')}"));

    /// <summary>Execute's request stream, with each batch checked command by command before the service sees it.</summary>
    private sealed class CheckedBatches<T>(IAsyncStreamReader<T> inner, AccessPrincipal principal, string method) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken).ConfigureAwait(false)) return false;
            switch (inner.Current)
            {
                case ExecuteRequest request:
                    for (int i = 0; i < request.Commands.Count; i++)
                    {
                        Command.CommandOneofCase kind = request.Commands[i].CommandCase;
                        if (AccessPolicy.RoleOf(kind) is { } role && !principal.HasRole(role)) throw Denied(principal, $"'{role}'", $"{method} commands[{i}] ({kind})");
                    }
                    break;
                case ExecuteBatch { Error: not null }:
                    // A malformed batch is refused whole (INVALID_ARGUMENT) and never executed; past its first bad
                    // command the slots were not decoded, so there is nothing reliable to check.
                    break;
                case ExecuteBatch batch:
                    for (int i = 0; i < batch.Count; i++)
                    {
                        Engine.Domain.CommandType type = batch.Commands[i].Type;
                        if (AccessPolicy.RoleOf(type) is { } role && !principal.HasRole(role))
                        {
                            batch.Return(); // pooled: the service never sees this batch
                            throw Denied(principal, $"'{role}'", $"{method} commands[{i}] ({type})");
                        }
                    }
                    break;
                default:
                    throw new RpcException(new Status(StatusCode.PermissionDenied, $"{method}: cannot check the commands of a {typeof(T).Name}"));
            }
            return true;
        }
    }
}
