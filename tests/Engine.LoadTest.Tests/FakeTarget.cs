using Credit.V1;
using Engine.LoadTest;
using Microsoft.Extensions.Time.Testing;

namespace Engine.LoadTest.Tests;

/// <summary>
/// A target the test controls: it answers every command approved at once, except while <see cref="Holds"/> says the
/// "server" is stalled at the fake clock's time; those sends wait until <see cref="ReleaseHeld"/>.
/// </summary>
internal sealed class FakeTarget(FakeTimeProvider time) : ILoadTarget
{
    private readonly List<(Command[] Commands, TaskCompletionSource<IReadOnlyList<CommandReply>> Reply)> _held = [];
    private readonly DateTimeOffset _start = time.GetUtcNow();

    public int Sends { get; private set; }
    /// <summary>Given the milliseconds since the fake clock's start, whether a send arriving then is held.</summary>
    public Func<double, bool> Holds { get; set; } = _ => false;

    public Task<IReadOnlyList<CommandReply>> SendAsync(Command[] commands, CancellationToken ct)
    {
        Sends++;
        if (!Holds((time.GetUtcNow() - _start).TotalMilliseconds)) return Task.FromResult(Approve(commands));
        // Continuations run inline when the test releases, so the runner reads the clock the test set.
        var reply = new TaskCompletionSource<IReadOnlyList<CommandReply>>();
        _held.Add((commands, reply));
        return reply.Task;
    }

    public void ReleaseHeld()
    {
        var held = _held.ToArray();
        _held.Clear();
        foreach ((Command[] commands, TaskCompletionSource<IReadOnlyList<CommandReply>> reply) in held) reply.SetResult(Approve(commands));
    }

    private static IReadOnlyList<CommandReply> Approve(Command[] commands) =>
        [.. commands.Select(_ => new CommandReply { Approved = true, Status = Status.Ok, ResponseCode = "00" })];

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
