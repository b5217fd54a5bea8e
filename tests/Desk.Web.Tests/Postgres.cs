using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Desk.Web.Tests;

/// <summary>
/// A private PostgreSQL cluster for this test process, from Debian's <c>postgresql</c> package: initdb into a fresh
/// temporary directory, listening on 127.0.0.1 on a free port with its own socket directory, stopped and deleted
/// when the process exits. The distribution's own cluster and service are never touched. PostgreSQL refuses to run
/// as root, so as root its commands run as the <c>postgres</c> user over a directory it owns.
/// </summary>
public sealed class PostgresServer
{
    public const string User = "desk";
    private const int CommandTimeoutMs = 120_000;
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync);

    private readonly string _bin;
    private readonly bool _asPostgres;
    private readonly string _root;
    public int Port { get; }
    private string DataDirectory => Path.Combine(_root, "data");

    private PostgresServer(string bin, bool asPostgres, string root, int port) { _bin = bin; _asPostgres = asPostgres; _root = root; Port = port; }

    /// <summary>The process-wide server, started on first use.</summary>
    public static Task<PostgresServer> SharedAsync() => Shared.Value;

    /// <summary>A connection string to a database of its own (EF's migration creates it) on the shared server.</summary>
    public string ConnectionStringForNewDatabase() =>
        $"Host=127.0.0.1;Port={Port};Username={User};Database=desk_{Guid.NewGuid():N};Timeout=30;Command Timeout=60;Include Error Detail=true";

    /// <summary>Debian installs each major version under /usr/lib/postgresql/N/bin; the newest wins.</summary>
    public static string? FindBinDirectory() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(b => File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out int v) ? v : 0).FirstOrDefault()
            : null;

    private static async Task<PostgresServer> StartAsync()
    {
        string bin = FindBinDirectory() ?? throw new InvalidOperationException(
            "PostgreSQL is not installed (no /usr/lib/postgresql/N/bin/pg_ctl): apt-get install -y postgresql (.ci/run does this)");
        bool root = Environment.UserName == "root";
        string rootDirectory = Temp.Directory("pg");
        var server = new PostgresServer(bin, root, rootDirectory, FreePort());
        Directory.CreateDirectory(Path.Combine(rootDirectory, "socket"));
        if (root) await RunAsync("chown", ["-R", "postgres:postgres", rootDirectory], rootDirectory);
        // --no-sync: this cluster is thrown away after the run; fsync off for the same reason (speed, not durability, is tested here).
        await server.PostgresAsync("initdb", ["-D", server.DataDirectory, "-U", User, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
        File.AppendAllText(Path.Combine(server.DataDirectory, "postgresql.conf"),
            $"\nlisten_addresses = '127.0.0.1'\nport = {server.Port}\nunix_socket_directories = '{Path.Combine(rootDirectory, "socket")}'\n" +
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\nshared_buffers = 64MB\n");
        await server.PostgresAsync("pg_ctl", ["-D", server.DataDirectory, "-l", Path.Combine(rootDirectory, "postgres.log"), "-w", "-t", "60", "start"]);
        Temp.AtExit(server.Stop);
        return server;
    }

    /// <summary>Immediate shutdown (nothing here needs to survive); the run directory holding the cluster is deleted after.</summary>
    private void Stop()
    {
        try { PostgresAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"]).Wait(TimeSpan.FromSeconds(40)); }
        catch (Exception e) { Console.Error.WriteLine($"pg_ctl stop failed: {e.Message}"); }
    }

    private Task PostgresAsync(string program, IEnumerable<string> arguments) =>
        _asPostgres
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, program), .. arguments], _root)
            : RunAsync(Path.Combine(_bin, program), arguments, _root);

    private static async Task RunAsync(string program, IEnumerable<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(CommandTimeoutMs);
        await process.WaitForExitAsync(cts.Token);
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', start.ArgumentList)} exited {process.ExitCode}: {await output}{await error}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Where a test desk keeps its data: the same tests run on SQLite (the default) and on PostgreSQL.</summary>
public static class Storage
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary>The desk arguments for <paramref name="storage"/>: none for SQLite, a fresh database on the shared server for PostgreSQL.</summary>
    public static async Task<string[]> ArgumentsAsync(string storage) => storage switch
    {
        Sqlite => [],
        Postgres => ["--Desk:Database=Postgres", $"--Desk:ConnectionString={(await PostgresServer.SharedAsync()).ConnectionStringForNewDatabase()}"],
        _ => throw new ArgumentOutOfRangeException(nameof(storage), storage, "sqlite or postgres"),
    };
}
