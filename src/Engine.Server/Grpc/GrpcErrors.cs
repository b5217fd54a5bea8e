using Engine.Domain;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Engine.Server.Grpc;

/// <summary>
/// The gRPC error model of docs/SPEC.md: malformed input is INVALID_ARGUMENT with a google.rpc.BadRequest
/// detail naming the field; overload is RESOURCE_EXHAUSTED (ring full) or UNAVAILABLE (not running).
/// Business outcomes never come through here: they are replies.
/// </summary>
public static class GrpcErrors
{
    public static RpcException InvalidArgument(ValidationError error) => InvalidArgument(error.Field, error.Message);

    public static RpcException InvalidArgument(string field, string message)
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = $"{field}: {message}",
            Details =
            {
                Any.Pack(new BadRequest
                {
                    FieldViolations = { new BadRequest.Types.FieldViolation { Field = field, Description = message } },
                }),
            },
        };
        return status.ToRpcException();
    }

    public static RpcException RingFull() =>
        new(new global::Grpc.Core.Status(StatusCode.ResourceExhausted, "engine is at capacity (ring full); retry with backoff and the same request_id"));

    public static RpcException NotRunning(string why) =>
        new(new global::Grpc.Core.Status(StatusCode.Unavailable, why));

    public static RpcException ReadReplica(string leaderUrl) =>
        new(new global::Grpc.Core.Status(StatusCode.FailedPrecondition, $"this server is a read replica and does not accept commands; send them to the leader at {leaderUrl}"));

    public static RpcException NotFound(string what) =>
        new(new global::Grpc.Core.Status(StatusCode.NotFound, what));

    /// <summary>A refused durable-cursor operation: NOT_FOUND for an unknown cursor, FAILED_PRECONDITION when it was dropped or the limit is reached.</summary>
    public static RpcException Cursor(Engine.Core.ConsumerCursorException e) =>
        new(new global::Grpc.Core.Status(e.Error == Engine.Core.ConsumerCursorError.NotFound ? StatusCode.NotFound : StatusCode.FailedPrecondition, e.Message));

    /// <summary>Runs a read-model call, answering UNAVAILABLE when the read model cannot answer yet (it is starting up).</summary>
    public static T FromReadModel<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Engine.ReadModel.ReadModelNotRunningException e)
        {
            throw NotRunning(e.Message);
        }
    }

    public static RpcException DeadlineExceeded(string what) =>
        new(new global::Grpc.Core.Status(StatusCode.DeadlineExceeded, what));
}
