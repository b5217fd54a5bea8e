namespace Engine.Bench.Peers;

/// <summary>
/// Finds Debian's PostgreSQL and Redis binaries and installs the packages with apt-get when they are missing.
/// The packages' own services are not used (each run starts private servers); the install runs with
/// <c>RUNLEVEL=1</c> so that invoke-rc.d does not start the distribution's default cluster or redis-server either.
/// </summary>
internal static class PeerPackages
{
    public const string PostgresPackage = "postgresql";
    public const string RedisPackage = "redis-server";
    private static readonly TimeSpan AptTimeout = TimeSpan.FromMinutes(8);
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    /// <summary>Debian puts every PostgreSQL major under /usr/lib/postgresql/N/bin; the newest one wins.</summary>
    public static string? FindPostgresBinDirectory()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root)
            .Select(path => (Path: Path.Combine(path, "bin"), Major: int.TryParse(Path.GetFileName(path), out int major) ? major : -1))
            .Where(candidate => candidate.Major > 0 && File.Exists(Path.Combine(candidate.Path, "initdb")) && File.Exists(Path.Combine(candidate.Path, "pg_ctl")))
            .OrderByDescending(candidate => candidate.Major)
            .Select(candidate => candidate.Path)
            .FirstOrDefault();
    }

    public static string? FindRedisServer() =>
        new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);

    public static async Task<bool> IsRootAsync(CancellationToken ct)
    {
        ExternalProcess.Result result = await ExternalProcess.RunAsync("id", ["-u"], TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        return result.ExitCode == 0 && result.Output.Trim() == "0";
    }

    /// <summary>Installs <paramref name="package"/> unless <paramref name="isInstalled"/> already holds; fails clearly when that needs root we do not have.</summary>
    public static async Task EnsureInstalledAsync(string package, Func<bool> isInstalled, bool installMissing, CancellationToken ct)
    {
        if (isInstalled()) return;
        await InstallGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (isInstalled()) return;
            if (!installMissing)
                throw new InvalidOperationException($"{package} is not installed and --no-install was given: run 'apt-get install -y {PostgresPackage} {RedisPackage}'");
            if (!await IsRootAsync(ct).ConfigureAwait(false))
                throw new InvalidOperationException($"{package} is not installed and this process is not root, so it cannot install it: run 'sudo apt-get install -y {PostgresPackage} {RedisPackage}' first");
            Console.WriteLine($"installing {package} with apt-get (private servers are started per run; the distribution's service is not used)");
            var environment = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive", ["RUNLEVEL"] = "1" };
            string[] install = ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends", package];
            ExternalProcess.Result first = await ExternalProcess.RunAsync("apt-get", install, AptTimeout, ct, environment: environment).ConfigureAwait(false);
            if (first.ExitCode != 0 || !isInstalled())
            {
                // A fresh machine has no package lists yet.
                await ExternalProcess.RunCheckedAsync("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update"], AptTimeout, ct, environment: environment).ConfigureAwait(false);
                await ExternalProcess.RunCheckedAsync("apt-get", install, AptTimeout, ct, environment: environment).ConfigureAwait(false);
            }
            if (!isInstalled()) throw new InvalidOperationException($"apt-get installed {package} but its binaries were not found");
        }
        finally
        {
            InstallGate.Release();
        }
    }
}
