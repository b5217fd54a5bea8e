namespace Engine.Bench.Peers;

/// <summary>
/// A private PostgreSQL cluster for one run: initdb into a fresh temporary directory, listening on 127.0.0.1 on a free
/// port with its own unix-socket directory, stopped (<c>pg_ctl stop -m fast</c>) and deleted by <see cref="DisposeAsync"/>.
/// The distribution's cluster and service are never touched. PostgreSQL refuses to run as root, so as root every
/// PostgreSQL command runs as the <c>postgres</c> user (<c>runuser -u postgres --</c>) over a directory it owns.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    public const string User = "bench";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    private readonly string _binDirectory;
    private readonly bool _asPostgresUser;
    private bool _started;

    private PostgresServer(string binDirectory, bool asPostgresUser, string rootDirectory, int port)
    {
        _binDirectory = binDirectory;
        _asPostgresUser = asPostgresUser;
        RootDirectory = rootDirectory;
        Port = port;
    }

    public string RootDirectory { get; }
    public string DataDirectory => Path.Combine(RootDirectory, "data");
    public string SocketDirectory => Path.Combine(RootDirectory, "socket");
    public string LogFile => Path.Combine(RootDirectory, "postgres.log");
    public int Port { get; }

    public string ConnectionString(int poolSize) =>
        $"Host=127.0.0.1;Port={Port};Username={User};Database=postgres;Pooling=true;Minimum Pool Size={poolSize};Maximum Pool Size={poolSize};" +
        // Auto-prepare: the UPDATE is parsed and planned once per connection, as a tuned application would do.
        "Max Auto Prepare=16;Auto Prepare Min Usages=2;No Reset On Close=true;Timeout=60;Command Timeout=120;Include Error Detail=true";

    /// <summary>Creates and starts the cluster with <paramref name="settings"/> appended to postgresql.conf.</summary>
    public static async Task<PostgresServer> StartAsync(string binDirectory, IReadOnlyDictionary<string, string> settings, CancellationToken ct)
    {
        bool root = await PeerPackages.IsRootAsync(ct).ConfigureAwait(false);
        string rootDirectory = Path.Combine(Path.GetTempPath(), $"engine-peers-pg-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var server = new PostgresServer(binDirectory, root, rootDirectory, LoopbackPort.Free());
        try
        {
            await server.CreateAndStartAsync(settings, ct).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task CreateAndStartAsync(IReadOnlyDictionary<string, string> settings, CancellationToken ct)
    {
        Directory.CreateDirectory(RootDirectory);
        Directory.CreateDirectory(SocketDirectory);
        if (_asPostgresUser)
        {
            await ExternalProcess.RunCheckedAsync("chown", ["-R", "postgres:postgres", RootDirectory], CommandTimeout, ct).ConfigureAwait(false);
        }
        // --no-sync only skips flushing initdb's own files (this cluster is thrown away after the run); the running
        // server still fsyncs its WAL on every commit, which SHOW fsync / synchronous_commit verify afterwards.
        await RunPostgresCommandAsync("initdb", ["-D", DataDirectory, "-U", User, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], ct).ConfigureAwait(false);
        var configuration = new System.Text.StringBuilder("\n# engine peers benchmark\n");
        configuration.Append("listen_addresses = '127.0.0.1'\n");
        configuration.Append($"port = {Port}\n");
        configuration.Append($"unix_socket_directories = '{SocketDirectory}'\n");
        foreach ((string name, string value) in settings) configuration.Append($"{name} = {value}\n");
        File.AppendAllText(Path.Combine(DataDirectory, "postgresql.conf"), configuration.ToString());
        await RunPostgresCommandAsync("pg_ctl", ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "start"], ct).ConfigureAwait(false);
        _started = true;
    }

    private Task<string> RunPostgresCommandAsync(string program, IEnumerable<string> arguments, CancellationToken ct)
    {
        string path = Path.Combine(_binDirectory, program);
        return _asPostgresUser
            ? ExternalProcess.RunCheckedAsync("runuser", new[] { "-u", "postgres", "--", path }.Concat(arguments), CommandTimeout, ct, workingDirectory: RootDirectory)
            : ExternalProcess.RunCheckedAsync(path, arguments, CommandTimeout, ct, workingDirectory: RootDirectory);
    }

    public string LogTail()
    {
        try
        {
            string[] lines = File.ReadAllLines(LogFile);
            return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 30)));
        }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    /// <summary>Stops the server (fast shutdown: rolls back open transactions, checkpoints) and deletes every file of the cluster.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            _started = false;
            try
            {
                await RunPostgresCommandAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop"], CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                Console.Error.WriteLine($"pg_ctl stop failed, killing the postmaster: {e.Message}");
                KillPostmaster();
            }
        }
        try
        {
            if (Directory.Exists(RootDirectory)) Directory.Delete(RootDirectory, recursive: true);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"could not delete {RootDirectory}: {e.Message}");
        }
    }

    /// <summary>The postmaster's pid (first line of postmaster.pid); its children are the backends doing the work.</summary>
    public int? PostmasterProcessId()
    {
        try
        {
            return int.Parse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First().Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Last resort: SIGKILL to the postmaster this run started (its pid is the first line of postmaster.pid).</summary>
    private void KillPostmaster()
    {
        try
        {
            if (PostmasterProcessId() is not int pid) return;
            using var postmaster = System.Diagnostics.Process.GetProcessById(pid);
            postmaster.Kill(entireProcessTree: true);
            postmaster.WaitForExit(10_000);
        }
        catch (Exception e) when (e is IOException or ArgumentException or FormatException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"could not kill the postmaster: {e.Message}");
        }
    }
}
