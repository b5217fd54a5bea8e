using Engine.Domain;
using Engine.Journal;
using Microsoft.Extensions.Logging;

namespace Engine.ReadModel;

/// <summary>
/// The leader's read-model feeder: tails the engine's durable journal and applies each record to the
/// <see cref="LedgerReadModel"/>. Starts from the read model's own newest snapshot (under
/// <c>{Engine:DataDirectory}/readmodel</c>) when it still matches the log, so a restart does not replay everything,
/// and writes a new one every ReadModel:SnapshotEveryEvents events and when it stops.
/// </summary>
public sealed class JournalProjector(LedgerReadModel readModel, ReadModelOptions options, ILogger logger) : IReadModelFeeder
{
    private CancellationTokenSource? _stopping;
    private Task? _feeder;
    private SnapshotStore? _snapshots;

    /// <summary>Where the leader's read-model snapshots live, under the engine's data directory.</summary>
    public static string SnapshotDirectory(string dataDirectory) => Path.Combine(dataDirectory, "readmodel");

    public SnapshotStore Snapshots => _snapshots ?? throw new InvalidOperationException("the projector is not running");

    public SnapshotInfo WriteSnapshot() => readModel.WriteSnapshot(Snapshots);

    /// <summary>None: a leader's read model follows the engine's own journal.</summary>
    public IUpstreamStatus? Upstream => null;

    /// <summary>
    /// Loads the read model's snapshot (synchronously: the server serves queries only after) and starts tailing.
    /// <paramref name="engineSnapshots"/> is the fallback when the engine's retention truncated the log past it.
    /// </summary>
    public void Start(EventJournal journal, string dataDirectory, LedgerOptions ledgerOptions, LedgerReadModel.LedgerSnapshotSource engineSnapshots)
    {
        if (_feeder is not null) throw new InvalidOperationException("the projector is already running");
        _snapshots = new SnapshotStore(SnapshotDirectory(dataDirectory), options.SnapshotsKept, logger);
        _ledgerOptions = ledgerOptions;
        _engineSnapshots = engineSnapshots;
        long fromAddress = readModel.Attach(journal, _snapshots, ledgerOptions, engineSnapshots);
        _stopping = new CancellationTokenSource();
        _feeder = Task.Run(() => ProjectAsync(journal, fromAddress, _stopping.Token));
    }

    private LedgerOptions _ledgerOptions = new();
    private LedgerReadModel.LedgerSnapshotSource? _engineSnapshots;

    /// <summary>Stops tailing and writes a final snapshot.</summary>
    public async Task StopAsync()
    {
        if (_feeder is null || _stopping is null) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _feeder.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        if (readModel.Fault is null && readModel.EventsSinceSnapshot > 0 && _snapshots is not null)
        {
            SnapshotInfo info = readModel.WriteSnapshot(_snapshots);
            logger.LogInformation("read model: snapshot at sequence {Sequence} written at shutdown", info.Sequence);
        }
    }

    private async Task TailAsync(EventJournal journal, long fromAddress, CancellationToken ct)
    {
        long begin = journal.BeginAddress;
        using JournalReader reader = journal.OpenReader(fromAddress);
        while (!ct.IsCancellationRequested)
        {
            while (reader.TryReadNext(out ReadOnlySpan<byte> payload, out long address, out long nextAddress))
            {
                readModel.ApplyRecord(payload, address, nextAddress);
                if (readModel.EventsSinceSnapshot >= options.SnapshotEveryEvents) readModel.WriteSnapshot(Snapshots);
                if (ct.IsCancellationRequested) return;
            }
            if (reader.EndState.IsTornTail)
                throw new InvalidOperationException($"the journal ends in a torn record at address {reader.EndState.Address} while the engine runs");
            if (journal.BeginAddress > begin)
            {
                begin = journal.BeginAddress;
                readModel.OnLogTruncated(begin); // history entries below the new begin can no longer be read
            }
            await journal.WaitForCommitAsync(reader.NextAddress + 1, ct).ConfigureAwait(false);
        }
    }

    private async Task ProjectAsync(EventJournal journal, long fromAddress, CancellationToken ct)
    {
        try
        {
            // Bounded: each pass either tails until stopped or restarts once from a newer snapshot after retention overtook it.
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    await TailAsync(journal, fromAddress, ct).ConfigureAwait(false);
                }
                catch (JournalTruncatedException e)
                {
                    // The engine's retention truncated records this projector had not read yet (it fell a whole snapshot
                    // interval behind): start again from the newest snapshot the remaining log continues.
                    logger.LogWarning("read model: the log was truncated ahead of it ({Message}); restarting from a snapshot", e.Message);
                    fromAddress = readModel.Attach(journal, Snapshots, _ledgerOptions, _engineSnapshots);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            readModel.SetFault(e);
            logger.LogCritical(e, "read model projector stopped at sequence {Sequence}; queries answer UNAVAILABLE", readModel.AppliedSequence);
        }
    }
}
