using Credit.V1;

namespace Engine.LoadTest;

/// <summary>
/// Where the load goes. One send is one unary call (one command) or one Execute batch; it completes with one reply
/// per command, in order, or fails with <see cref="Grpc.Core.RpcException"/> (counted by its status code).
/// The scheduler never awaits a send before issuing the next one, so <see cref="SendAsync"/> must return quickly
/// and must not block on the network.
/// </summary>
public interface ILoadTarget : IAsyncDisposable
{
    Task<IReadOnlyList<CommandReply>> SendAsync(Command[] commands, CancellationToken ct);
}
