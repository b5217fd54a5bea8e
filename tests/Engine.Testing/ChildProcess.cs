using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Engine.Testing;

/// <summary>
/// An ASP.NET Core app as its own process (<c>dotnet App.dll …</c>), so a test can kill -9 it or send SIGTERM. The
/// app listens on a port the OS chose (127.0.0.1:0); <see cref="WaitUntilListeningAsync"/> reads it from Kestrel's
/// "Now listening on" line. Everything the process prints is kept in <see cref="Output"/>.
/// </summary>
public sealed partial class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _output = [];

    /// <param name="assemblyFileName">The app's dll beside the test assembly, e.g. <c>Engine.Server.dll</c>.</param>
    /// <param name="what">Names the app in errors ("server exited before listening").</param>
    public ChildProcess(string assemblyFileName, IEnumerable<string> arguments, string what, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assemblyFileName));
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_gcServer"] = "0";
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        // Exited can fire before the last redirected lines are read; WaitForExit() drains them, so the error carries the
        // process's last words (e.g. why it refused to start).
        _process.Exited += (_, _) => Task.Run(() =>
        {
            _process.WaitForExit();
            _listening.TrySetException(new InvalidOperationException($"{what} exited before listening:\n" + Output));
        });
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public Process Process => _process;

    public string Output
    {
        get { lock (_output) return string.Join('\n', _output); }
    }

    /// <summary>The address Kestrel reported, once it listens; throws when the process exits first or the bound passes.</summary>
    public Task<string> WaitUntilListeningAsync(TimeSpan timeout) => _listening.Task.WaitAsync(timeout);

    /// <summary>Waits for the process to end by itself within <paramref name="timeout"/>, with all of its output read.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
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
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(30_000);
        }
        _process.Dispose();
    }
}
