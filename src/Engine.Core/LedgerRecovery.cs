using Engine.Domain;
using Engine.Journal;

namespace Engine.Core;

/// <summary>What start-up found and did.</summary>
public sealed record RecoveryReport(
    long SnapshotSequence,
    long ReplayedEvents,
    long LastSequence,
    long? TornTailCutAtAddress,
    TimeSpan Elapsed,
    TimeSpan SnapshotLoad,
    TimeSpan Replay,
    long LogEpoch);

/// <summary>
/// Start-up: the newest valid snapshot, then every journal record after the address it covers, applied
/// with the same <see cref="Ledger.Apply"/> the decide thread uses. The journal is read only up to its committed
/// end, so a torn tail there (bad records with nothing valid after them) is damage to acknowledged commands: start-up
/// stops with <see cref="CommittedTailDamagedException"/> unless <see cref="RecoveryOptions.CutDamagedTail"/> says to
/// cut it (which raises the journal's log epoch). A torn write beyond the committed end (a crash mid-commit) is never
/// read: the journal recovers to its last commit and new appends overwrite it. Anything else wrong stops start-up with the reason, because serving
/// balances from a log we cannot read completely would be silently wrong. That includes a journal truncated by
/// retention with no usable snapshot at or after its begin (<see cref="JournalTruncatedException"/>).
/// </summary>
public static class LedgerRecovery
{
    /// <param name="idempotencySpill">An empty spill store for the ledger's request ids beyond its memory bound, or null.</param>
    public static (Ledger Ledger, RecoveryReport Report) Recover(EventJournal journal, SnapshotStore snapshots, LedgerOptions options, ILogger logger,
        IIdempotencySpillStore? idempotencySpill = null, RecoveryOptions? recovery = null)
    {
        recovery ??= new RecoveryOptions();
        long started = Environment.TickCount64;
        Ledger ledger;
        long fromAddress;
        if (snapshots.TryOpenNewestValid(out SnapshotInfo snapshot, out Stream body))
        {
            using (body)
            {
                using var buffered = new BufferedStream(body, 1 << 20);
                ledger = Ledger.ReadSnapshot(buffered, options, idempotencySpill);
            }
            if (ledger.LastSequence != snapshot.Sequence)
                throw new JournalCorruptException(snapshot.JournalAddress, $"snapshot {snapshot.Path} says sequence {snapshot.Sequence} but holds state up to {ledger.LastSequence}");
            if (snapshot.JournalAddress < journal.BeginAddress)
                throw new JournalTruncatedException(snapshot.JournalAddress, journal.BeginAddress,
                    $"snapshot {snapshot.Path} (sequence {snapshot.Sequence}) resumes the journal at address {snapshot.JournalAddress}, but the journal begins at {journal.BeginAddress}: " +
                    "the records in between were truncated. Start-up is stopped to avoid serving wrong balances; restore a newer snapshot.");
            if (snapshot.JournalAddress > journal.TailAddress)
                throw new JournalCorruptException(snapshot.JournalAddress,
                    $"snapshot {snapshot.Path} covers the journal up to address {snapshot.JournalAddress}, but the journal ends at {journal.TailAddress}: the log is missing committed records");
            fromAddress = snapshot.JournalAddress;
            logger.LogInformation("recovery: snapshot at sequence {Sequence} ({Bytes} bytes) loaded; replaying the journal from " +
                "address {Address}",
                snapshot.Sequence, snapshot.BodyLength, fromAddress);
        }
        else
        {
            // After truncation the events before the begin exist only in snapshots: an empty ledger plus the rest of
            // the log would be silently wrong.
            if (journal.BeginAddress > EventJournal.FirstValidAddress)
                throw new JournalTruncatedException(EventJournal.FirstValidAddress, journal.BeginAddress,
                    $"no valid snapshot, and the journal was truncated (it begins at address {journal.BeginAddress}): the events before it exist only in snapshots. " +
                    "Start-up is stopped to avoid serving wrong balances; restore a snapshot.");
            ledger = new Ledger(options, idempotencySpill);
            fromAddress = journal.BeginAddress;
        }

        long snapshotLoadedAt = Environment.TickCount64;
        long snapshotSequence = ledger.LastSequence;
        var replayer = new Replayer(ledger);
        long? cutAt = null;
        using (JournalReader reader = journal.OpenReader(fromAddress))
        {
            while (reader.TryReadNext(out ReadOnlySpan<byte> payload, out long address, out _))
            {
                try
                {
                    EventBlock.Decode(payload, replayer);
                }
                catch (FormatException e)
                {
                    throw new JournalCorruptException(address, $"journal record at address {address} passed its checksum but does not decode: {e.Message}");
                }
            }
            if (reader.EndState.IsTornTail)
            {
                long damaged = reader.EndState.Address;
                var damage = new CommittedTailDamagedException(damaged, journal.CommittedUntilAddress, ledger.LastSequence, journal.LogEpoch);
                if (!recovery.CutDamagedTail) throw damage;
                cutAt = damaged;
                logger.LogWarning("recovery: Engine:Recovery:CutDamagedTail is set, so the damaged committed tail is cut. {Damage}", damage.Message);
            }
        }
        if (cutAt is { } cut)
        {
            // Snapshots are written only of committed events, but a snapshot taken before the damage happened may hold
            // events after the cut: drop them first, so none can be loaded once new events re-use those sequences.
            snapshots.DeleteNewerThan(ledger.LastSequence);
            recovery.BeforeCut?.Invoke(ledger.LastSequence);
            journal.CutTail(cut);
            logger.LogWarning("recovery: journal cut at address {Address}; log epoch is now {LogEpoch}; the next event is sequence " +
                "{NextSequence}",
                cut, journal.LogEpoch, ledger.LastSequence + 1);
        }

        long replayedAt = Environment.TickCount64;
        ledger.CheckInvariants();
        var report = new RecoveryReport(snapshotSequence, replayer.Applied, ledger.LastSequence, cutAt,
            Elapsed: TimeSpan.FromMilliseconds(Environment.TickCount64 - started),
            SnapshotLoad: TimeSpan.FromMilliseconds(snapshotLoadedAt - started),
            Replay: TimeSpan.FromMilliseconds(replayedAt - snapshotLoadedAt),
            LogEpoch: journal.LogEpoch);
        logger.LogInformation("recovery: {ReplayedEvents} events replayed after snapshot sequence {SnapshotSequence}; last " +
            "sequence {LastSequence}; log epoch {LogEpoch}; {ElapsedMs:F0} ms (snapshot load {SnapshotLoadMs:F0} " +
            "ms, replay {ReplayMs:F0} ms)",
            report.ReplayedEvents, report.SnapshotSequence, report.LastSequence, report.LogEpoch, report.Elapsed.TotalMilliseconds, report.SnapshotLoad.TotalMilliseconds, report.Replay.TotalMilliseconds);
        return (ledger, report);
    }

    private sealed class Replayer(Ledger ledger) : IEventSink
    {
        public long Applied;

        public void OnEvent(in LedgerEvent ledgerEvent)
        {
            // Records before the snapshot's address are not read; an event at or below the snapshot's
            // sequence here would mean the snapshot and the log disagree about where they meet.
            ledger.Apply(ledgerEvent);
            Applied++;
        }
    }
}
