using System.Globalization;

namespace Engine.Bench.Peers;

/// <summary>
/// CPU time (user + system) of processes, from /proc/PID/stat, so each row can say how much CPU one authorization
/// cost the server and the client. On a shared 2-core machine that figure moves far less with other people's load
/// than throughput does. A process and its direct children are counted together: PostgreSQL's work happens in the
/// postmaster's backend processes.
/// </summary>
internal static class ProcessCpu
{
    private static readonly Lazy<double> TicksPerSecond = new(ReadTicksPerSecond);

    /// <summary>CPU seconds used so far by each of <paramref name="rootPids"/> and their direct children, keyed by pid.</summary>
    public static Dictionary<int, double> Snapshot(IReadOnlyCollection<int> rootPids)
    {
        var seconds = new Dictionary<int, double>();
        if (rootPids.Count == 0 || !Directory.Exists("/proc")) return seconds;
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            if (!TryRead(pid, out int parentPid, out double cpuSeconds)) continue;
            if (rootPids.Contains(pid) || rootPids.Contains(parentPid)) seconds[pid] = cpuSeconds;
        }
        return seconds;
    }

    /// <summary>CPU seconds between two snapshots; a process that appeared in between counts from zero.</summary>
    public static double Used(Dictionary<int, double> before, Dictionary<int, double> after) =>
        after.Sum(entry => entry.Value - before.GetValueOrDefault(entry.Key));

    private static bool TryRead(int pid, out int parentPid, out double cpuSeconds)
    {
        parentPid = 0;
        cpuSeconds = 0;
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // exited meanwhile
        }
        // The command name (field 2) is in parentheses and may contain spaces; fields after it are plain numbers.
        int close = stat.LastIndexOf(')');
        if (close < 0) return false;
        string[] fields = stat[(close + 2)..].Split(' ');
        // After the name: state(3) ppid(4) … utime(14) stime(15), so indexes 1, 11 and 12 here.
        if (fields.Length < 13) return false;
        parentPid = int.Parse(fields[1], CultureInfo.InvariantCulture);
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        cpuSeconds = ticks / TicksPerSecond.Value;
        return true;
    }

    private static double ReadTicksPerSecond()
    {
        try
        {
            ExternalProcess.Result result = ExternalProcess.RunAsync("getconf", ["CLK_TCK"], TimeSpan.FromSeconds(10), CancellationToken.None).GetAwaiter().GetResult();
            if (result.ExitCode == 0 && double.TryParse(result.Output.Trim(), CultureInfo.InvariantCulture, out double ticks) && ticks > 0) return ticks;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            // fall through to Linux's usual value
        }
        return 100;
    }
}
