using Engine.Server.Edge;
using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Engine.Server.Telemetry;

/// <summary>
/// Structured logs for calls that end in a gRPC error (issue #14 item 6): the method, status code and message, the
/// command's <c>request_id</c> (and <c>account_id</c>) when the request has one, the principal, the peer and ASP.NET
/// Core's request id (<c>HttpContext.TraceIdentifier</c>, also in the host's own request logs). Business outcomes are
/// replies, not errors, and are not logged here. Levels: an unexpected exception is an error; UNAVAILABLE and
/// DEADLINE_EXCEEDED are warnings; bad input and refused preconditions are information; NOT_FOUND and
/// RESOURCE_EXHAUSTED (overload, counted by the metrics, and which would flood the log exactly when it is busiest) are
/// debug.
/// </summary>
public static class ErrorLogging
{
    public static WebApplicationBuilder AddErrorLogging(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<GrpcServiceOptions>(grpc => grpc.Interceptors.Add<ErrorLoggingInterceptor>());
        return builder;
    }
}

/// <summary>See <see cref="ErrorLogging"/>.</summary>
public sealed class ErrorLoggingInterceptor(ILogger<ErrorLoggingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Log(e, request, context))
        {
            throw; // never reached: Log returns false, so the exception propagates untouched
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Log(e, request, context))
        {
            throw;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (Log(e, null, context))
        {
            throw;
        }
    }

    /// <summary>Logs and returns false (an exception filter: the stack is not unwound for the log).</summary>
    private bool Log(Exception exception, object? request, ServerCallContext context)
    {
        if (exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested) return false; // the caller left
        (StatusCode code, string detail, LogLevel level) = exception is RpcException rpc
            ? (rpc.StatusCode, rpc.Status.Detail, LevelOf(rpc.StatusCode))
            : (StatusCode.Unknown, exception.Message, LogLevel.Error);
        if (!logger.IsEnabled(level)) return false;
        string requestId = FieldOf(request, "request_id");
        string accountId = FieldOf(request, "account_id");
        logger.Log(level, exception is RpcException ? null : exception,
            "{Method} failed {StatusCode}: {Detail} (request_id '{RequestId}', account_id '{AccountId}', principal {Principal}, peer {Peer}, http request {TraceIdentifier})",
            context.Method, code, detail, requestId, accountId, CallPrincipal.Of(context), context.Peer, context.GetHttpContext()?.TraceIdentifier);
        return false;
    }

    private static LogLevel LevelOf(StatusCode code) => code switch
    {
        StatusCode.NotFound or StatusCode.ResourceExhausted or StatusCode.Cancelled => LogLevel.Debug,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange or StatusCode.PermissionDenied
            or StatusCode.Unauthenticated or StatusCode.AlreadyExists => LogLevel.Information,
        StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted => LogLevel.Warning,
        _ => LogLevel.Error,
    };

    /// <summary>A string field of a protobuf request by its proto name, or "" (error path only: descriptor look-up is fine here).</summary>
    private static string FieldOf(object? request, string name) =>
        request is IMessage message && message.Descriptor.FindFieldByName(name) is { } field && field.Accessor.GetValue(message) is string value ? value : "";
}
