using System.Diagnostics;

namespace Engine.Journal.Tests;

/// <summary>A fresh directory under the system temp path, deleted on Dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "engine-journal-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class Journals
{
    /// <summary>Small pages and segments, so tests cross page and segment boundaries with little data.</summary>
    public static JournalOptions Small(string directory, bool acknowledgeBeforeFsync = false) => new()
    {
        DirectoryPath = directory,
        PageSizeBits = 12,      // 4 KiB pages
        MemorySizeBits = 15,    // 8 pages in memory
        SegmentSizeBits = 16,   // 64 KiB segment files
        RecordBytesMax = 2000,
        AcknowledgeBeforeFsync = acknowledgeBeforeFsync,
    };

    /// <summary>Deterministic payload for record <paramref name="index"/>: its length and bytes depend on the index.</summary>
    public static byte[] Payload(int index, int length)
    {
        var payload = new byte[length];
        for (int i = 0; i < length; i++) payload[i] = (byte)(index * 31 + i * 7 + 1);
        if (length >= 4) BitConverter.TryWriteBytes(payload, index);
        return payload;
    }

    /// <summary>Reads every committed record; returns the payloads, their addresses and the reader's end state.</summary>
    public static (List<byte[]> Payloads, List<long> Addresses, JournalReadEnd End) ReadAll(EventJournal journal, long? from = null)
    {
        var payloads = new List<byte[]>();
        var addresses = new List<long>();
        using JournalReader reader = journal.OpenReader(from ?? journal.BeginAddress);
        long expected = from ?? journal.BeginAddress;
        while (reader.TryReadNext(out ReadOnlySpan<byte> payload, out long address, out long next))
        {
            Assert.True(address >= expected, $"record at {address} before expected {expected}");
            Assert.True(next > address);
            payloads.Add(payload.ToArray());
            addresses.Add(address);
            expected = next;
        }
        return (payloads, addresses, reader.EndState);
    }

    public static string SegmentPath(string directory, long segment) =>
        System.IO.Path.Combine(directory, $"{EventJournal.SegmentFilePrefix}.{segment}");
}

/// <summary>Runs this test assembly as a child process (see <see cref="CrashChild"/>) so a test can kill -9 it.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;

    public ChildProcess(params string[] arguments)
    {
        string assembly = typeof(CrashChild).Assembly.Location;
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the child process");
    }

    /// <summary>Reads stdout lines until one starts with <paramref name="prefix"/>; fails after <paramref name="timeout"/>.</summary>
    public string WaitForLine(string prefix, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            Task<string?> line = _process.StandardOutput.ReadLineAsync();
            if (!line.Wait(timeout - deadline.Elapsed)) break;
            if (line.Result is null)
                throw new InvalidOperationException($"child exited (code {(_process.WaitForExit(5000) ? _process.ExitCode : -1)}) before printing '{prefix}': {_process.StandardError.ReadToEnd()}");
            if (line.Result.StartsWith(prefix, StringComparison.Ordinal)) return line.Result;
        }
        throw new TimeoutException($"child did not print '{prefix}' within {timeout}");
    }

    /// <summary>SIGKILL on Unix: no finalizers, no Dispose, no flush — a crash.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: false);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited) KillHard();
        _process.Dispose();
    }

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        string? current = Environment.ProcessPath;
        if (current is not null && System.IO.Path.GetFileNameWithoutExtension(current) == "dotnet") return current;
        return "dotnet";
    }
}
