using System.Diagnostics;
using System.Text.RegularExpressions;
using Credit.V1;
using Grpc.Net.Client;

namespace Engine.Server.Tests;

/// <summary>
/// The server as its own process (<c>dotnet Engine.Server.dll</c>), so a test can kill -9 it or send SIGTERM.
/// The port is chosen by the OS (127.0.0.1:0) and read from Kestrel's "Now listening on" line.
/// </summary>
public sealed partial class ChildServer : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _output = [];

    private ChildServer(string dataDirectory, string[] extra)
    {
        DataDirectory = dataDirectory;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Engine.Server.dll"));
        foreach (string argument in TestServer.Arguments(dataDirectory, extra)) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_gcServer"] = "0";
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException("server exited before listening:\n" + Output));
        _process.EnableRaisingEvents = true;
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string DataDirectory { get; }
    public string Address { get; private set; } = "";
    public GrpcChannel Channel { get; private set; } = null!;
    public AuthorizationService.AuthorizationServiceClient Authorization { get; private set; } = null!;
    public AccountService.AccountServiceClient Accounts { get; private set; } = null!;
    public EventService.EventServiceClient Events { get; private set; } = null!;
    public QueryService.QueryServiceClient Queries { get; private set; } = null!;
    public Process Process => _process;

    public string Output
    {
        get { lock (_output) return string.Join('\n', _output); }
    }

    public static async Task<ChildServer> StartAsync(string dataDirectory, params string[] extra)
    {
        var child = new ChildServer(dataDirectory, extra);
        try
        {
            child.Address = await child._listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
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
        using var cts = new CancellationTokenSource(timeout);
        await child._process.WaitForExitAsync(cts.Token);
        child._process.WaitForExit(); // drains the redirected output
        return (child._process.ExitCode, child.Output);
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit(30_000);
    }

    /// <summary>SIGTERM, then waits for the process to exit; returns its exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString() } })!)
            await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
        Match match = ListeningLine().Match(line);
        if (match.Success) _listening.TrySetResult(match.Groups[1].Value);
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();

    public void Dispose()
    {
        Channel?.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(30_000);
        }
        _process.Dispose();
    }
}
