using Credit.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Engine.LoadTest;

/// <summary>
/// One unary <c>AuthorizationService</c> call per command, with a deadline and no retries: a retry would hide
/// overload (RESOURCE_EXHAUSTED) that the run must report. Calls go round robin over the channels given (one
/// HTTP/2 connection each): one connection's frame writer and locks are shared by every stream on it, and with
/// thousands of calls a second on one connection the client spends its time contending for them.
/// </summary>
public sealed class UnaryTarget(IReadOnlyList<GrpcChannel> channels, TimeSpan timeout) : ILoadTarget
{
    private readonly AuthorizationService.AuthorizationServiceClient[] _clients = [.. channels.Select(channel => new AuthorizationService.AuthorizationServiceClient(channel))];
    private int _next = -1;

    public async Task<IReadOnlyList<CommandReply>> SendAsync(Command[] commands, CancellationToken ct)
    {
        if (commands.Length != 1) throw new ArgumentException("a unary send carries exactly one command", nameof(commands));
        var options = new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: ct);
        AuthorizationService.AuthorizationServiceClient client = _clients[(uint)Interlocked.Increment(ref _next) % (uint)_clients.Length];
        Command command = commands[0];
        CommandReply reply = command.CommandCase switch
        {
            Command.CommandOneofCase.Authorize => ToReply(await client.AuthorizeAsync(command.Authorize, options).ConfigureAwait(false)),
            Command.CommandOneofCase.Capture => ToReply(await client.CaptureAsync(command.Capture, options).ConfigureAwait(false)),
            Command.CommandOneofCase.Void => ToReply(await client.VoidAsync(command.Void, options).ConfigureAwait(false)),
            Command.CommandOneofCase.Repay => ToReply(await client.RepayAsync(command.Repay, options).ConfigureAwait(false)),
            Command.CommandOneofCase.ForcePost => ToReply(await client.ForcePostAsync(command.ForcePost, options).ConfigureAwait(false)),
            Command.CommandOneofCase.Refund => ToReply(await client.RefundAsync(command.Refund, options).ConfigureAwait(false)),
            _ => throw new ArgumentException($"the load generator does not send {command.CommandCase} as a unary call", nameof(commands)),
        };
        return [reply];
    }

    private static CommandReply ToReply(AuthorizeResponse response)
    {
        CommandReply reply = ToReply((ICommandReply)response);
        reply.AuthorizationId = response.AuthorizationId;
        return reply;
    }

    private static CommandReply ToReply(ICommandReply response) => new()
    {
        Approved = response.Approved,
        Status = response.Status,
        ResponseCode = response.ResponseCode,
        Available = response.Available,
        Held = response.Held,
        Posted = response.Posted,
        Sequence = response.Sequence,
        Replayed = response.Replayed,
    };

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
