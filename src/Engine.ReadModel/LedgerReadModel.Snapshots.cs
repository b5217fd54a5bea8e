using System.Diagnostics;
using System.Globalization;
using Engine.Domain;
using Engine.Journal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using DomainEvent = Engine.Domain.LedgerEvent;

namespace Engine.ReadModel;

/// <summary>Starting the read model (from its own snapshot, the engine's, or empty), replacing it, and writing its snapshots.</summary>
public sealed partial class LedgerReadModel
{
    /// <summary>Opens the engine's newest valid snapshot (a plain ledger snapshot), or returns false.</summary>
    public delegate bool LedgerSnapshotSource(out SnapshotInfo info, out Stream body);

    /// <summary>
    /// Starts (or restarts) from <paramref name="journal"/>: from the newest valid read-model snapshot in
    /// <paramref name="snapshots"/> when it covers a part of the log still there; else, when the log's beginning was
    /// truncated away, from <paramref name="fallback"/> (the engine's own snapshot: the ledger without history);
    /// else empty from the log's beginning. Returns the journal address the feeder replays from. Only the feeder calls
    /// this, before it applies anything.
    /// </summary>
    public long Attach(EventJournal journal, SnapshotStore snapshots, LedgerOptions engineLedgerOptions, LedgerSnapshotSource? fallback = null)
    {
        LedgerOptions ledgerOptions = ReadModelLedgerOptions(engineLedgerOptions);
        Ledger? ledger = null;
        var sequenceIndex = new SequenceIndex(_options.SequenceIndexStride);
        var accounts = new Dictionary<string, AccountIndex>(StringComparer.Ordinal);
        long historyEvents = 0;
        long fromAddress = journal.BeginAddress;
        var flows = new PortfolioFlows();
        if (snapshots.TryOpenNewestValid(out SnapshotInfo snapshot, out Stream body))
        {
            using (body)
            {
                if (Covers(snapshot, journal))
                {
                    ledger = Ledger.ReadSnapshot(body, ledgerOptions);
                    (historyEvents, uint format) = HistoryIndexSnapshot.Read(body, sequenceIndex, accounts, journal.BeginAddress);
                    if (!flows.TryRead(body))
                        _logger.LogInformation("read model: snapshot {Path} has no portfolio flows section (written before it existed); monthly flows count from here", snapshot.Path);
                    RebuildAccounts(ledger, accounts);
                    if (format == HistoryIndexSnapshot.PackedFormatMagic)
                        _logger.LogInformation("read model: snapshot {Path} has the old packed history index (RMX1); loaded as is, the next snapshot is written as RMX2", snapshot.Path);
                    CheckSnapshotSequence(ledger, snapshot);
                    fromAddress = snapshot.JournalAddress;
                    _logger.LogInformation("read model: snapshot at sequence {Sequence} loaded ({Bytes} bytes, {HistoryEvents} history entries); replaying the log from address {Address}",
                        snapshot.Sequence, snapshot.BodyLength, historyEvents, fromAddress);
                }
                else
                {
                    _logger.LogWarning("read model: snapshot {Path} covers log address {Address}, outside the log's [{Begin}, {End}]; not used",
                        snapshot.Path, snapshot.JournalAddress, journal.BeginAddress, journal.CommittedUntilAddress);
                }
            }
        }
        if (ledger is null && journal.BeginAddress > EventJournal.FirstValidAddress)
        {
            // The log no longer starts at the first event: only a snapshot that the remaining log continues can rebuild the state.
            if (fallback is null || !fallback(out SnapshotInfo engineSnapshot, out Stream engineBody))
                throw new JournalTruncatedException(EventJournal.FirstValidAddress, journal.BeginAddress);
            using (engineBody)
            {
                if (!Covers(engineSnapshot, journal)) throw new JournalTruncatedException(engineSnapshot.JournalAddress, journal.BeginAddress);
                ledger = Ledger.ReadSnapshot(engineBody, ledgerOptions);
            }
            CheckSnapshotSequence(ledger, engineSnapshot);
            RebuildAccounts(ledger, accounts);
            fromAddress = engineSnapshot.JournalAddress;
            _logger.LogInformation("read model: the log was truncated and no read-model snapshot covers it; started from the engine's snapshot at sequence {Sequence} (history starts there)",
                engineSnapshot.Sequence);
        }
        Install(journal, ledger ?? new Ledger(ledgerOptions), sequenceIndex, accounts, historyEvents, fromAddress, flows);
        return fromAddress;
    }

    private static bool Covers(SnapshotInfo snapshot, EventJournal journal) =>
        snapshot.JournalAddress >= journal.BeginAddress && snapshot.JournalAddress <= journal.CommittedUntilAddress;

    private static void CheckSnapshotSequence(Ledger ledger, SnapshotInfo snapshot)
    {
        if (ledger.LastSequence != snapshot.Sequence)
            throw new JournalCorruptException(snapshot.JournalAddress, $"snapshot {snapshot.Path} says sequence {snapshot.Sequence} but holds state up to {ledger.LastSequence}");
    }

    /// <summary>
    /// Replaces the whole state with <paramref name="ledger"/> (a snapshot fetched from upstream) over an empty
    /// <paramref name="journal"/>: history restarts here. Only the feeder calls this.
    /// </summary>
    public void Reset(EventJournal journal, Ledger ledger) =>
        Install(journal, ledger, new SequenceIndex(_options.SequenceIndexStride), RebuildAccounts(ledger, []), 0, journal.TailAddress, new PortfolioFlows());

    private void Install(EventJournal journal, Ledger ledger, SequenceIndex sequenceIndex, Dictionary<string, AccountIndex> accounts, long historyEvents, long fromAddress,
        PortfolioFlows flows)
    {
        EnterWrite();
        try
        {
            JournalByteReader? previous = _bytes;
            _journal = journal;
            _bytes = new JournalByteReader(journal);
            previous?.Dispose();
            _ledger = ledger;
            _delinquency = new DelinquencyIndex();
            _portfolio = new PortfolioTotals();
            _portfolio.Flows.TakeFlowsFrom(flows);
            foreach (Account account in ledger.Accounts)
            {
                _portfolio.Add(account, +1);
                if (account.Lifecycle is not null) _delinquency.Observe(account, ledger.LastTimestampUnixMs);
            }
            _sequenceIndex = sequenceIndex;
            _accounts = accounts;
            _historyEvents = historyEvents;
            _historyDropRetryAt = 0;
            _historyFloorAddress = journal.BeginAddress;
            Volatile.Write(ref _snapshotSequence, ledger.LastSequence);
            Volatile.Write(ref _appliedUntilAddress, fromAddress);
            Volatile.Write(ref _appliedTimestampUnixMs, ledger.LastTimestampUnixMs);
            Volatile.Write(ref _appliedSequence, ledger.LastSequence);
        }
        finally
        {
            ExitWrite();
        }
        _advanced.Set();
    }

    /// <summary>
    /// Stops history reads from the current log before its owner disposes or deletes it (a replica rebuilding from
    /// its upstream's snapshot): from now until <see cref="Reset"/> installs the new log, ListEvents finds no events on
    /// disk instead of reading a disposed log. Only the feeder calls this.
    /// </summary>
    public void ReleaseJournal()
    {
        EnterWrite();
        try
        {
            _bytes?.Dispose();
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>
    /// Writes a snapshot of this state (ledger, then the history and sequence indexes) to <paramref name="store"/>.
    /// Queries go on meanwhile (the writer gate, not the read lock: see <c>_writerGate</c>); the feeder waits. <paramref name="beforeWrite"/> runs first with the
    /// address the snapshot covers, so a replica can make its log durable up to there.
    /// </summary>
    public SnapshotInfo WriteSnapshot(SnapshotStore store, Action<long>? beforeWrite = null)
    {
        _snapshotting.Wait();
        try
        {
            Monitor.Enter(_writerGate);
            try
            {
                long address = AppliedUntilAddress;
                beforeWrite?.Invoke(address);
                SnapshotInfo info = store.Write(_ledger.LastSequence, address, stream =>
                {
                    _ledger.WriteSnapshot(stream);
                    HistoryIndexSnapshot.Write(stream, _sequenceIndex, _accounts);
                    using var writer = new BinaryWriter(stream, System.Text.Encoding.ASCII, leaveOpen: true);
                    _portfolio.Flows.Write(writer);
                });
                Volatile.Write(ref _snapshotSequence, info.Sequence);
                return info;
            }
            finally
            {
                Monitor.Exit(_writerGate);
            }
        }
        finally
        {
            _snapshotting.Release();
        }
    }

    /// <summary>Adds every authorization the ledger holds to its account's index, in creation order.</summary>
    private static Dictionary<string, AccountIndex> RebuildAccounts(Ledger ledger, Dictionary<string, AccountIndex> accounts)
    {
        ReadOnlySpan<Account> all = ledger.Accounts;
        var byAccount = new Dictionary<int, List<Authorization>>();
        foreach (Authorization authorization in ledger.Authorizations)
        {
            if (!byAccount.TryGetValue(authorization.AccountIndex, out List<Authorization>? list)) byAccount[authorization.AccountIndex] = list = [];
            list.Add(authorization);
        }
        foreach ((int accountIndex, List<Authorization> list) in byAccount)
        {
            string accountId = all[accountIndex].Id;
            if (!accounts.TryGetValue(accountId, out AccountIndex? account)) accounts[accountId] = account = new AccountIndex();
            list.Sort((x, y) => x.CreatedSequence.CompareTo(y.CreatedSequence));
            foreach (Authorization authorization in list) account.AddAuthorization(authorization.Id, authorization.CreatedSequence, ledger);
        }
        return accounts;
    }
}
