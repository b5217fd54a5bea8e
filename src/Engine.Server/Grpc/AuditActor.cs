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
    /// <summary>The call's principal as an actor: its name in printable ASCII (others become '?'), at most 64 characters.</summary>
    public static string Of(ServerCallContext context)
    {
        // CallPrincipal.Anonymous ("anonymous") when the server runs open (loopback without keys).
        string name = Edge.CallPrincipal.Of(context);
        // Principal names come from the operator's configuration; the event format stores ASCII, one byte a character.
        int length = Math.Min(name.Length, CommandValidator.IdLengthMax);
        return string.Create(length, name, static (span, source) =>
        {
            for (int i = 0; i < span.Length; i++) span[i] = source[i] is >= '!' and <= '~' ? source[i] : '?';
        });
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
