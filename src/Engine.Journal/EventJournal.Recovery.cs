using FASTER.core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Engine.Journal;

/// <summary>
/// The journal's recovery: opening a log directory, restoring exactly its newest valid commit (never FASTER's own
/// <c>TryRecoverLatest</c>, which swallows errors and can come back as an empty log), and cutting a torn tail.
/// </summary>
public sealed partial class EventJournal
{
    /// <summary>
    /// Opens the journal in <see cref="JournalOptions.DirectoryPath"/>, creating it when absent and otherwise
    /// recovering it to its last commit.
    /// </summary>
    /// <param name="options">Settings; validated.</param>
    /// <param name="logger">Receives warnings and recovery notes. Optional.</param>
    /// <exception cref="JournalRecoveryException">The commit metadata is missing or damaged, or FASTER failed to restore it.</exception>
    public static EventJournal Open(JournalOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        logger ??= NullLogger.Instance;
        if (options.AcknowledgeBeforeFsync)
        {
            logger.LogWarning("journal AcknowledgeBeforeFsync is ON. Commit() returns BEFORE records are fsync'd; " +
                "a crash or power loss can lose records that were already acknowledged. BENCHMARKS ONLY, never in production.");
        }

        string directoryPath = Path.GetFullPath(options.DirectoryPath);
        DurableFile.CreateDirectoryDurably(directoryPath);
        if (!CommitMetadataFile.Exists(directoryPath))
        {
            string? segment = Directory.EnumerateFiles(directoryPath, SegmentFilePrefix + ".*").FirstOrDefault();
            if (segment is not null)
                throw new JournalRecoveryException($"journal directory '{directoryPath}' holds segment file '{Path.GetFileName(segment)}' but no commit file '{CommitMetadataFile.FileName}': the commit metadata was lost, so nothing says how much of the log is durable. Start-up is stopped to avoid serving wrong balances.");
            CommitMetadataFile.Create(directoryPath, EmptyLogCommit());
        }

        CommitMetadataFile commits = CommitMetadataFile.Open(directoryPath, options.SegmentSizeBits, logger);
        commits.FaultInjector = options.FaultInjector;
        var journal = new EventJournal(options, directoryPath, commits, logger);
        try
        {
            journal.StartFaster();
        }
        catch
        {
            commits.Dispose();
            throw;
        }
        try
        {
            journal.CheckBeginSegmentPresent();
            journal.DeleteSegmentsBelow(journal.BeginAddress, "left over from a truncation interrupted after its begin address became durable");
        }
        catch
        {
            journal.Dispose();
            throw;
        }
        CommitSlot newest = commits.Newest;
        logger.LogInformation("journal: opened '{Directory}' at commit {CommitNum}, log epoch {LogEpoch}: addresses " +
            "[{BeginAddress}, {UntilAddress}) are durable",
            directoryPath, newest.CommitNum, newest.LogEpoch, newest.BeginAddress, newest.UntilAddress);
        return journal;
    }

    /// <summary>
    /// Start-up check: when the log holds committed records, the segment file holding the begin address must exist.
    /// Retention deletes files only after the begin above them is durable, so a missing one means the files were lost
    /// (or a truncation's commit failed after FASTER had already deleted them): stop rather than serve a log with a
    /// hole at its start.
    /// </summary>
    private void CheckBeginSegmentPresent()
    {
        long begin = BeginAddress;
        if (_commits.DurableUntilAddress <= begin) return;
        long segment = begin >> _options.SegmentSizeBits;
        string path = SegmentFileReader.SegmentPath(_segmentBasePath, segment);
        if (!File.Exists(path))
            throw new JournalRecoveryException($"journal '{_directoryPath}': the commit metadata says the log begins at address {begin}, but its segment file '{Path.GetFileName(path)}' is missing. Start-up is stopped to avoid serving wrong balances.");
    }

    /// <summary>
    /// Cuts a torn tail: after this, the log ends at <paramref name="fromAddress"/> (the address a reader reported as
    /// <see cref="JournalReadEndKind.TornTail"/>), durably, and new appends go there, overwriting the damaged bytes,
    /// and <see cref="LogEpoch"/> is one higher. The reader never reads past the committed end, so what is cut here was
    /// committed: the caller decides whether losing it is acceptable (the engine refuses unless told to).
    /// For start-up only: every reader must be disposed, nothing may be appended but uncommitted, and no other call
    /// may run concurrently.
    /// </summary>
    /// <remarks>
    /// Refuses to cut anything that verifies: it rescans [<paramref name="fromAddress"/>, committed end) and throws
    /// if any valid record is there. The cut itself is one new commit slot whose FASTER metadata ends at
    /// <paramref name="fromAddress"/> (fdatasync'd, so it is atomic and survives a crash); FASTER is then reopened
    /// on it, which clears its in-memory tail page beyond the new end.
    /// </remarks>
    public void CutTail(long fromAddress)
    {
        lock (_lifecycleLock)
        {
            ThrowIfUnusable();
            if (Volatile.Read(ref _openReaders) != 0)
                throw new InvalidOperationException("CutTail needs every JournalReader disposed first.");
            long durable = _commits.DurableUntilAddress;
            long tail = _fasterLog.TailAddress;
            if (tail != durable)
                throw new InvalidOperationException($"CutTail is for start-up: records were appended after the last commit (tail {tail}, committed until {durable}).");
            if (fromAddress < BeginAddress || fromAddress > durable || fromAddress % RecordFormat.EntryAlignmentBytes != 0)
                throw new ArgumentOutOfRangeException(nameof(fromAddress), fromAddress, $"the cut must be a record boundary in [{BeginAddress}, {durable}]");
            if (fromAddress == durable) return;

            using (var cursor = new LogPageCursor(_segmentBasePath, _options.SegmentSizeBits, _options.PageSizeBits))
            {
                long valid = cursor.FindValidRecord(fromAddress, durable);
                if (valid >= 0)
                    throw new InvalidOperationException($"refusing to cut the journal at {fromAddress}: the record at {valid} verifies, so [{fromAddress}, {durable}) is not a torn tail.");
            }

            CommitSlot newest = _commits.Newest;
            var info = new FasterLogRecoveryInfo();
            using (var reader = new BinaryReader(new MemoryStream(newest.Metadata)))
                info.Initialize(reader);
            info.UntilAddress = fromAddress;
            info.CommitNum = newest.CommitNum + 1;
            // The cut raises the log epoch in the same fdatasync'd slot that moves the end back: no append can reuse
            // the cut addresses before the new epoch is durable.
            var cut = new CommitSlot(info.CommitNum, info.BeginAddress, fromAddress, info.ToByteArray(), newest.LogEpoch + 1);

            StopFaster();
            try
            {
                _commits.WriteRewind(cut);
                StartFaster();
            }
            catch (Exception e)
            {
                _fault = e;
                throw;
            }
            _logger.LogWarning("journal: cut the torn tail [{FromAddress}, {DurableUntil}) ({CutBytes} bytes that never verified); " +
                "the log now ends at {NewEnd}, log epoch {LogEpoch}",
                fromAddress, durable, durable - fromAddress, fromAddress, cut.LogEpoch);
        }
    }

    private void StartFaster()
    {
        CommitSlot newest = _commits.Newest;
        _device = Devices.CreateLogDevice(_segmentBasePath, preallocateFile: false, deleteOnClose: false);
        var settings = new FasterLogSettings
        {
            LogDevice = _device,
            PageSizeBits = _options.PageSizeBits,
            MemorySizeBits = _options.MemorySizeBits,
            SegmentSizeBits = _options.SegmentSizeBits,
            LogCommitManager = _commits,
            LogChecksum = LogChecksumType.None, // our records carry their own CRC-32C
            FastCommitMode = false, // every commit writes metadata: recovery never scans the log for commit records
            TryRecoverLatest = false, // it swallows errors; we recover explicitly below
            AutoRefreshSafeTailAddress = false,
            AutoCommit = false,
            MutableFraction = 0,
        };

        FasterLog log;
        try
        {
            log = new FasterLog(settings);
        }
        catch
        {
            _device.Dispose();
            throw;
        }

        try
        {
            log.Recover(newest.CommitNum);
        }
        catch (Exception e)
        {
            log.Dispose();
            _device.Dispose();
            throw new JournalRecoveryException($"journal '{_directoryPath}': FASTER could not restore commit {newest.CommitNum} (addresses [{newest.BeginAddress}, {newest.UntilAddress})): {e.Message}. Start-up is stopped to avoid serving wrong balances.", e);
        }

        if (log.BeginAddress != newest.BeginAddress || log.CommittedUntilAddress != newest.UntilAddress || log.TailAddress != newest.UntilAddress)
        {
            string found = $"begin {log.BeginAddress}, committed until {log.CommittedUntilAddress}, tail {log.TailAddress}";
            log.Dispose();
            _device.Dispose();
            throw new JournalRecoveryException($"journal '{_directoryPath}': FASTER restored {found}, but commit {newest.CommitNum} says begin {newest.BeginAddress}, until {newest.UntilAddress}. Start-up is stopped to avoid serving wrong balances.");
        }
        _fasterLog = log;
        Volatile.Write(ref _beginAddress, newest.BeginAddress);
    }

    /// <summary>How long closing the log device may wait for FASTER's pooled file handles (see <see cref="StopFaster"/>).</summary>
    internal static readonly TimeSpan DeviceCloseWaitMax = TimeSpan.FromSeconds(10);

    private void StopFaster()
    {
        _fasterLog.Dispose();
        // FASTER 2.6.5's ManagedLocalStorageDevice.Dispose waits without a bound until every pooled file handle is back
        // in its AsyncPool. After truncation deleted segments a handle sometimes never comes back (seen as a hung
        // Dispose in the retention tests: AsyncPool.Dispose → SemaphoreSlim.Wait), and a shutdown must not hang on it.
        // Everything durable was committed before this point, so a device that does not close in time is left to the
        // process's exit, with a warning.
        IDevice device = _device;
        Task closing = Task.Run(device.Dispose);
        if (!closing.Wait(DeviceCloseWaitMax))
            _logger.LogWarning("journal: the log device did not close within {WaitSeconds} s (FASTER file handles still out); leaving it to the process exit",
                DeviceCloseWaitMax.TotalSeconds);
    }

    private static CommitSlot EmptyLogCommit()
    {
        var info = new FasterLogRecoveryInfo
        {
            BeginAddress = FirstValidAddress,
            UntilAddress = FirstValidAddress,
            CommitNum = 0,
        };
        return new CommitSlot(0, FirstValidAddress, FirstValidAddress, info.ToByteArray(), LogEpoch: 0);
    }
}
