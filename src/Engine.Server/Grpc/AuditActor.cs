using Engine.Domain;
using Grpc.Core;
using DomainCommand = Engine.Domain.Command;

namespace Engine.Server.Grpc;

/// <summary>
/// The audit trail's "who": the principal of a call (README "Access control"), written into every account-administration
/// command so its event records it (<see cref="DomainCommand.Actor"/>, <c>LedgerEvent.actor</c>).
/// </summary>
public static class AuditActor
{
    /// <summary>Recorded when the server runs open (loopback without keys): nobody authenticated the call.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>The call's principal as an actor: its name in printable ASCII (others become '?'), at most 64 characters.</summary>
    public static string Of(ServerCallContext context)
    {
        string? name = context.GetHttpContext().User.Identity is { IsAuthenticated: true } identity ? identity.Name : null;
        if (string.IsNullOrEmpty(name)) return Anonymous;
        // Principal names come from the operator's configuration; the event format stores ASCII, one byte a character.
        int length = Math.Min(name.Length, CommandValidator.IdLengthMax);
        return string.Create(length, name, static (span, source) =>
        {
            for (int i = 0; i < span.Length; i++) span[i] = source[i] is >= '!' and <= '~' ? source[i] : '?';
        });
    }

    /// <summary>Stamps <paramref name="actor"/> on the command if it is account administration; other commands stay as they are.</summary>
    public static void Stamp(ref DomainCommand command, string actor)
    {
        if (CommandKinds.IsAccountAdministration(command.Type)) command.Actor = actor;
    }

    /// <summary>Stamps the call's principal on the account-administration commands of a batch.</summary>
    public static void Stamp(Span<DomainCommand> commands, ServerCallContext context)
    {
        string? actor = null;
        for (int i = 0; i < commands.Length; i++)
        {
            if (!CommandKinds.IsAccountAdministration(commands[i].Type)) continue;
            commands[i].Actor = actor ??= Of(context);
        }
    }
}
