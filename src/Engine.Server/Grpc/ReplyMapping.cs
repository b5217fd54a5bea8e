using Credit.V1;
using Engine.Domain;
using DomainStatus = Engine.Domain.Status;
using ProtoStatus = Credit.V1.Status;

namespace Engine.Server.Grpc;

/// <summary>Domain replies → proto (enums through <see cref="EnumMapping"/>).</summary>
public static class ReplyMapping
{
    public static ProtoStatus ToProto(DomainStatus status) => EnumMapping.ToProto(status);

    public static T Fill<T>(T target, in Reply reply) where T : ICommandReply
    {
        target.Approved = reply.Approved;
        target.Status = ToProto(reply.Status);
        target.ResponseCode = reply.ResponseCode;
        target.Available = reply.AvailableMinor;
        target.Held = reply.HeldMinor;
        target.Posted = reply.PostedMinor;
        target.Sequence = reply.Sequence;
        target.Replayed = reply.Replayed;
        return target;
    }

    public static CommandReply ToCommandReply(in Engine.Domain.Command command, in Reply reply)
    {
        var proto = Fill(new CommandReply(), reply);
        if (command.Type == Engine.Domain.CommandType.Authorize && reply.Approved) proto.AuthorizationId = command.RequestId;
        return proto;
    }
}
