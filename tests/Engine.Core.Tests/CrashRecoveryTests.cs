using System.Diagnostics;
using Engine.Core;
using Engine.CrashHost;
using Engine.Domain;
using Engine.Journal;

namespace Engine.Core.Tests;

/// <summary>Crash-recovery: the engine runs in a child process under load and is killed with SIGKILL.</summary>
public sealed class CrashRecoveryTests
{
    private const int Accounts = 50;

    [Fact]
    public async Task Every_command_acknowledged_before_kill_9_survives_with_its_original_reply()
    {
        using var data = new TempDataDirectory();
        var acknowledged = new Dictionary<long, (string Status, long Sequence)>();

        for (int round = 0; round < 2; round++)
        {
            // Round 2 restarts on the recovered data and crashes again: recovery must hold up to repeated crashes.
            Dictionary<long, (string, long)> acks = await RunAndKill(data.Path, minimumAcks: 3_000, truncateJournal: false);
            foreach ((long n, (string, long) ack) in acks) acknowledged.TryAdd(n, ack);
        }

        await using var engine = CreditEngine.Start(data.Options());
        Assert.True(engine.Recovery.LastSequence >= acknowledged.Values.Max(a => a.Sequence), "the recovered log ends before an acknowledged event");
        foreach ((long n, (string status, long sequence)) in acknowledged)
        {
            Reply again = await engine.SubmitAsync(CrashWorkload.For(n, Accounts));
            Assert.True(again.Replayed, $"command {n} was acknowledged ({status} at {sequence}) but is unknown after the crash");
            Assert.Equal(status, again.Status.ToString());
            Assert.Equal(sequence, again.Sequence);
        }
        await engine.StopAsync();
        // Nothing half-applied: the recovered state passed the full invariant check at start-up, and
        // rebuilding it from the log alone gives the same state.
        UInt128 recovered = engine.LedgerWhenStopped.ComputeDigest();
        Directory.Delete(data.SnapshotDirectory, recursive: true);
        await using var rebuilt = CreditEngine.Start(data.Options(o => o.SnapshotOnShutdown = false));
        await rebuilt.StopAsync();
        Assert.Equal(recovered, rebuilt.LedgerWhenStopped.ComputeDigest());
    }

    [Fact]
    public async Task With_journal_truncation_every_acknowledged_command_survives_kill_9_and_the_kept_snapshots_agree()
    {
        using var data = new TempDataDirectory();
        var acknowledged = new Dictionary<long, (string Status, long Sequence)>();
        for (int round = 0; round < 2; round++)
        {
            // The host truncates after every snapshot (each 1,000 events, 128 KiB segments): kill -9 lands around
            // truncations, segment deletions and snapshot writes.
            Dictionary<long, (string, long)> acks = await RunAndKill(data.Path, minimumAcks: 3_000, truncateJournal: true);
            foreach ((long n, (string, long) ack) in acks) acknowledged.TryAdd(n, ack);
        }

        EngineOptions options = CrashWorkload.Options(data.Path, truncateJournal: true);
        options.SnapshotOnShutdown = false;
        // What the killed hosts left, before an engine (whose start-up truncates too) touches it.
        using (var journal = EventJournal.Open(options.JournalOptionsAt(data.JournalDirectory)))
        {
            Assert.True(journal.BeginAddress > EventJournal.FirstValidAddress, "the crash host's retention should have truncated the journal");
            // No segment file wholly below the begin survives (a kill between the begin's commit and the deletions leaves
            // some, which opening the journal deletes). A begin still inside segment 0 keeps that file: the kill can land
            // before retention passed the first 128 KiB.
            long firstKeptSegment = journal.BeginAddress >> options.JournalSegmentSizeBits;
            string[] below = [.. Directory.GetFiles(data.JournalDirectory, EventJournal.SegmentFilePrefix + ".*")
                .Where(path => long.TryParse(Path.GetExtension(path).TrimStart('.'), out long segment) && segment < firstKeptSegment)];
            Assert.True(below.Length == 0, $"segment files below the begin address {journal.BeginAddress} remain: {string.Join(", ", below.Select(Path.GetFileName))}");
        }
        UInt128 recovered;
        await using (var engine = CreditEngine.Start(options))
        {
            Assert.True(engine.Recovery.LastSequence >= acknowledged.Values.Max(a => a.Sequence), "the recovered log ends before an acknowledged event");
            foreach ((long n, (string status, long sequence)) in acknowledged)
            {
                Reply again = await engine.SubmitAsync(CrashWorkload.For(n, Accounts));
                Assert.True(again.Replayed, $"command {n} was acknowledged ({status} at {sequence}) but is unknown after the crash");
                Assert.Equal(status, again.Status.ToString());
                Assert.Equal(sequence, again.Sequence);
            }
            await engine.StopAsync();
            recovered = engine.LedgerWhenStopped.ComputeDigest();
        }

        // Without the newest snapshot, the older kept one plus the log after it rebuild the same state.
        string[] snapshots = Directory.GetFiles(data.SnapshotDirectory, "*.snap").Order(StringComparer.Ordinal).ToArray();
        Assert.True(snapshots.Length >= 2, "retention keeps two snapshots");
        File.Delete(snapshots[^1]);
        await using var rebuilt = CreditEngine.Start(options);
        await rebuilt.StopAsync();
        Assert.Equal(recovered, rebuilt.LedgerWhenStopped.ComputeDigest());
    }

    private static async Task<Dictionary<long, (string Status, long Sequence)>> RunAndKill(string dataDirectory, int minimumAcks, bool truncateJournal)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CrashHostPath());
        start.ArgumentList.Add(dataDirectory);
        start.ArgumentList.Add(Accounts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("120");
        if (truncateJournal) start.ArgumentList.Add("truncate");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the crash host");
        var stderr = process.StandardError.ReadToEndAsync();
        var acks = new Dictionary<long, (string, long)>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            while (acks.Count < minimumAcks)
            {
                string? line = await process.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null) throw new InvalidOperationException($"crash host exited early: {await stderr}");
                if (!line.StartsWith("ACK ", StringComparison.Ordinal)) continue;
                string[] parts = line.Split(' ');
                acks[long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)] = (parts[2], long.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        finally
        {
            // SIGKILL while it is still submitting: no shutdown code runs.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        // Lines written before the kill but not yet read are acknowledgements too.
        while (await process.StandardOutput.ReadLineAsync() is { } rest)
        {
            string[] parts = rest.Split(' ');
            if (parts.Length == 4 && parts[0] == "ACK")
                acks[long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)] = (parts[2], long.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.Equal(137, process.ExitCode);
        return acks;
    }

    /// <summary>The crash host's dll, built next to this test assembly's configuration.</summary>
    private static string CrashHostPath()
    {
        string testDirectory = AppContext.BaseDirectory;
        string local = Path.Combine(testDirectory, "Engine.CrashHost.dll");
        if (File.Exists(local) && File.Exists(Path.Combine(testDirectory, "Engine.CrashHost.runtimeconfig.json"))) return local;
        throw new FileNotFoundException($"Engine.CrashHost.dll (with its runtimeconfig) not found in {testDirectory}");
    }
}
