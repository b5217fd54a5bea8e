using System.Diagnostics;

namespace Engine.Bench.Peers;

/// <summary>
/// A private redis-server for one run: 127.0.0.1 on a free port, its own temporary directory, the append-only file on
/// with <c>appendfsync always</c> (a write is fsync'd before its reply) and no RDB snapshots. The caller shuts it down
/// (SHUTDOWN NOSAVE); <see cref="DisposeAsync"/> waits for the process, kills it if it is still there, and deletes the directory.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _outputTail = new();
    private const int OutputLinesKept = 50;

    private RedisServer(string executable, string rootDirectory, int port)
    {
        RootDirectory = rootDirectory;
        Port = port;
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = rootDirectory,
        };
        string[] arguments =
        [
            "--bind", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--dir", rootDirectory, "--daemonize", "no", "--protected-mode", "yes",
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
            "--logfile", "",
        ];
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Remember(e.Data);
        _process.ErrorDataReceived += (_, e) => Remember(e.Data);
    }

    public string RootDirectory { get; }
    public int Port { get; }
    public bool HasExited => _process.HasExited;
    public int ProcessId => _process.Id;

    public static RedisServer Start(string executable)
    {
        string rootDirectory = Path.Combine(Path.GetTempPath(), $"engine-peers-redis-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(rootDirectory);
        var server = new RedisServer(executable, rootDirectory, LoopbackPort.Free());
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        return server;
    }

    public string OutputTail()
    {
        lock (_outputTail) return string.Join('\n', _outputTail);
    }

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_outputTail)
        {
            _outputTail.Enqueue(line);
            if (_outputTail.Count > OutputLinesKept) _outputTail.Dequeue();
        }
    }

    /// <summary>Set by the caller once it sent SHUTDOWN NOSAVE: disposal then gives the server time to exit on its own.</summary>
    public bool ShutdownRequested { get; set; }

    public async ValueTask DisposeAsync()
    {
        using (var exited = new CancellationTokenSource(ShutdownRequested ? TimeSpan.FromSeconds(10) : TimeSpan.Zero))
        {
            try
            {
                if (!_process.HasExited) await _process.WaitForExitAsync(exited.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                if (ShutdownRequested) Console.Error.WriteLine("redis-server did not exit after SHUTDOWN; killing it");
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        _process.Dispose();
        try
        {
            if (Directory.Exists(RootDirectory)) Directory.Delete(RootDirectory, recursive: true);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"could not delete {RootDirectory}: {e.Message}");
        }
    }
}
