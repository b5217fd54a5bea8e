using System.Diagnostics;
using Credit.V1;
using Engine.Testing;
using Grpc.Net.Client;

namespace Engine.Server.Tests;

/// <summary>
/// The server as its own process (<c>dotnet Engine.Server.dll</c>, through the shared <see cref="ChildProcess"/>), so a
/// test can kill -9 it or send SIGTERM, with gRPC clients on the port it reported.
/// </summary>
public sealed class ChildServer : IDisposable
{
    private static readonly TimeSpan ListeningTimeout = TimeSpan.FromSeconds(60);
    private readonly ChildProcess _child;

    private ChildServer(string dataDirectory, string[] extra)
    {
        DataDirectory = dataDirectory;
        _child = new ChildProcess("Engine.Server.dll", TestServer.Arguments(dataDirectory, extra), "server", workingDirectory: dataDirectory);
    }

    public string DataDirectory { get; }
    public string Address { get; private set; } = "";
    public GrpcChannel Channel { get; private set; } = null!;
    public AuthorizationService.AuthorizationServiceClient Authorization { get; private set; } = null!;
    public AccountService.AccountServiceClient Accounts { get; private set; } = null!;
    public EventService.EventServiceClient Events { get; private set; } = null!;
    public QueryService.QueryServiceClient Queries { get; private set; } = null!;
    public Process Process => _child.Process;
    public string Output => _child.Output;

    public static async Task<ChildServer> StartAsync(string dataDirectory, params string[] extra)
    {
        var child = new ChildServer(dataDirectory, extra);
        try
        {
            child.Address = await child._child.WaitUntilListeningAsync(ListeningTimeout);
        }
        catch
        {
            child.Dispose();
            throw;
        }
        child.Channel = GrpcChannel.ForAddress(child.Address);
        child.Authorization = new AuthorizationService.AuthorizationServiceClient(child.Channel);
        child.Accounts = new AccountService.AccountServiceClient(child.Channel);
        child.Events = new EventService.EventServiceClient(child.Channel);
        child.Queries = new QueryService.QueryServiceClient(child.Channel);
        return child;
    }

    /// <summary>
    /// Runs the server until it exits by itself (e.g. start-up refused), bounded by <paramref name="timeout"/>; returns
    /// its exit code and everything it printed.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string dataDirectory, TimeSpan timeout, params string[] extra)
    {
        using var child = new ChildServer(dataDirectory, extra);
        int exitCode = await child._child.WaitForExitAsync(timeout);
        return (exitCode, child.Output);
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void KillHard() => _child.KillHard();

    /// <summary>SIGTERM, then waits for the process to exit; returns its exit code.</summary>
    public Task<int> TerminateAsync(TimeSpan timeout) => _child.TerminateAsync(timeout);

    public void Dispose()
    {
        Channel?.Dispose();
        _child.Dispose();
    }
}
