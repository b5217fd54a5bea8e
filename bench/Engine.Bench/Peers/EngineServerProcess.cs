using System.Diagnostics;
using System.Text.RegularExpressions;
using Engine.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Engine.Bench.Peers;

/// <summary>
/// The real gRPC server on 127.0.0.1 with an OS-chosen port, either as its own process (<c>dotnet Engine.Server.dll</c>,
/// the default: separate from the load generator, as PostgreSQL and Redis are) or in this process through
/// <see cref="ServerApp.Build"/>. Stopping is graceful (SIGTERM / StopAsync) and the data directory is deleted.
/// </summary>
internal sealed partial class EngineServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);
    private const int OutputLinesKept = 200;

    private readonly Process? _process;
    private readonly WebApplication? _app;
    private readonly Queue<string> _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private EngineServerProcess(string dataDirectory, Process? process, WebApplication? app)
    {
        DataDirectory = dataDirectory;
        _process = process;
        _app = app;
    }

    public string DataDirectory { get; }
    /// <summary>The child server's pid; null when the server runs in this process.</summary>
    public int? ProcessId => _process?.Id;
    public string Address { get; private set; } = "";
    public string Mode => _process is not null ? "child process (dotnet Engine.Server.dll)" : "in-process (ServerApp.Build)";

    public static async Task<EngineServerProcess> StartAsync(string mode, CancellationToken ct)
    {
        string dataDirectory = Path.Combine(Path.GetTempPath(), $"engine-peers-grpc-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDirectory);
        string[] arguments =
        [
            "--urls", "http://127.0.0.1:0",
            $"--Engine:DataDirectory={dataDirectory}",
            "--Engine:AcknowledgeBeforeFsync=false",
            "--Engine:SnapshotOnShutdown=false",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
            "--Server:ShutdownTimeoutSeconds=10",
        ];
        if (mode == "inprocess")
        {
            WebApplication app = ServerApp.Build(arguments);
            var inProcess = new EngineServerProcess(dataDirectory, process: null, app);
            try
            {
                await app.StartAsync(ct).ConfigureAwait(false);
                inProcess.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
                return inProcess;
            }
            catch
            {
                await inProcess.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        string serverDll = Path.Combine(AppContext.BaseDirectory, "Engine.Server.dll");
        if (!File.Exists(serverDll) || !File.Exists(Path.ChangeExtension(serverDll, ".runtimeconfig.json")))
            throw new InvalidOperationException($"{serverDll} (with its runtimeconfig.json) is not next to the benchmark; build bench/Engine.Bench, or use --grpc-server inprocess");
        return await StartChildAsync([serverDll, .. arguments], dataDirectory, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The benchmarks' stub gRPC server (<c>Engine.Bench.dll stub-server</c>, <see cref="Edge.StubServer"/>) as its own
    /// process: the floor that <c>edge-floor</c> measures the engine's server against.
    /// </summary>
    public static async Task<EngineServerProcess> StartStubAsync(CancellationToken ct)
    {
        string dataDirectory = Path.Combine(Path.GetTempPath(), $"engine-stub-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDirectory);
        string benchDll = Path.Combine(AppContext.BaseDirectory, "Engine.Bench.dll");
        return await StartChildAsync([benchDll, "stub-server", "--urls", "http://127.0.0.1:0"], dataDirectory, ct).ConfigureAwait(false);
    }

    private static async Task<EngineServerProcess> StartChildAsync(string[] arguments, string dataDirectory, CancellationToken ct)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDirectory,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_gcServer"] = "0";
        var child = new EngineServerProcess(dataDirectory, new Process { StartInfo = start, EnableRaisingEvents = true }, app: null);
        child._process!.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        child._process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        child._process.Exited += (_, _) => child._listening.TrySetException(new InvalidOperationException($"{Path.GetFileName(arguments[0])} exited before listening:\n" + child.OutputTail()));
        var started = Stopwatch.StartNew();
        try
        {
            child._process.Start();
            child._process.BeginOutputReadLine();
            child._process.BeginErrorReadLine();
            child.Address = await child._listening.Task.WaitAsync(StartTimeout, ct).ConfigureAwait(false);
            return child;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Not listening yet: say for how long, and what the child printed, before stopping it.
            string message = $"{Path.GetFileName(arguments[0])} (pid {child.ProcessId}) was not listening after {started.Elapsed.TotalSeconds:F1} s " +
                             $"({(e is TimeoutException ? $"start timeout {StartTimeout.TotalSeconds:F0} s" : "the run was cancelled")}); its output:\n{child.OutputTail()}";
            await child.DisposeAsync().ConfigureAwait(false);
            throw e is TimeoutException ? new TimeoutException(message, e) : new OperationCanceledException(message, e, ct);
        }
        catch
        {
            await child.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The dotnet host running this process when there is one (tests, <c>dotnet Engine.Bench.dll</c>), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        string? current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    public string OutputTail()
    {
        lock (_output) return string.Join('\n', _output);
    }

    /// <summary>True when the server logged the benchmark-only acknowledge-before-fsync warning (it must not have).</summary>
    public bool LoggedAcknowledgeBeforeFsync()
    {
        lock (_output) return _output.Any(line => line.Contains("AcknowledgeBeforeFsync is ON", StringComparison.Ordinal));
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > OutputLinesKept) _output.Dequeue();
        }
        Match match = ListeningLine().Match(line);
        if (match.Success) _listening.TrySetResult(match.Groups[1].Value);
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            using var stopping = new CancellationTokenSource(StopTimeout);
            await _app.StopAsync(stopping.Token).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
        if (_process is not null)
        {
            await TerminateAsync(_process).ConfigureAwait(false);
            _process.Dispose();
        }
        EngineWork.DeleteDirectory(DataDirectory);
    }

    /// <summary>SIGTERM (graceful: drain, commit, exit 0), then SIGKILL if it does not exit in time.</summary>
    private static async Task TerminateAsync(Process process)
    {
        bool started;
        try { started = !process.HasExited; } catch (InvalidOperationException) { started = false; } // never started
        if (!started) return;
        await ExternalProcess.RunAsync("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
        using var exited = new CancellationTokenSource(StopTimeout);
        try
        {
            await process.WaitForExitAsync(exited.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Engine.Server did not exit after SIGTERM; killing it");
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }
}
