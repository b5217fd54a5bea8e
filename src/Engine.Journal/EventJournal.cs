using FASTER.core;

namespace Engine.Journal;

/// <summary>
/// The durable event log: checksummed records appended to a FASTER <see cref="FasterLog"/>, made durable in groups by
/// <see cref="Commit"/>. A reply may be sent only after the commit covering its event has returned.
/// </summary>
/// <remarks>
/// <para><b>How a commit becomes durable on Linux.</b> <c>Devices.CreateLogDevice</c> returns FASTER's
/// <c>ManagedLocalStorageDevice</c>, which opens segment files with <c>FileOptions.WriteThrough</c>; .NET maps that to
/// <c>O_SYNC</c>, so each page write returns only once its data and the inode are on stable storage (FASTER never
/// calls fsync; its NO_BUFFERING flag is ignored on Linux). FASTER then hands the commit metadata to our
/// <see cref="CommitMetadataFile"/>, which fsyncs the directory when the commit reaches a new segment file (FASTER
/// creates them without doing so), writes a checksummed slot and fdatasyncs it. Only then does FASTER complete
/// the commit and <see cref="Commit"/> return.</para>
/// <para><b>Recovery.</b> FASTER's own recovery (<c>TryRecoverLatest</c>) swallows every error and can come back as an
/// empty log. This class never uses it: it reads the newest valid commit slot itself, asks FASTER to restore exactly
/// that commit, and verifies the begin, committed and tail addresses FASTER reports; any disagreement throws
/// <see cref="JournalRecoveryException"/>. Records appended after the last commit are not in the recovered log.</para>
/// <para><b>Threads.</b> One appender thread calls <see cref="Append"/>; any thread may call <see cref="Commit"/>,
/// <see cref="CommitAsync"/>, <see cref="WaitForCommitAsync"/> and <see cref="OpenReader"/> concurrently with it.
/// <see cref="CutTail"/> is for start-up, with no other call in flight.</para>
/// </remarks>
public sealed class EventJournal : IDisposable
{
    /// <summary>FASTER's first valid log address (<c>Constants.kFirstValidAddress</c>): where an empty log begins.</summary>
    public const long FirstValidAddress = 64;

    /// <summary>File name prefix of the segment files: segment N is <c>journal.log.N</c>.</summary>
    public const string SegmentFilePrefix = "journal.log";

    private readonly JournalOptions _options;
    private readonly string _directoryPath;
    private readonly string _segmentBasePath;
    private readonly CommitMetadataFile _commits;
    private readonly Action<string> _log;
    private readonly object _lifecycleLock = new();

    // Replaced only by CutTail (start-up, nothing else running); volatile so other threads see the new instance.
    private volatile FasterLog _fasterLog = null!;
    private IDevice _device = null!;

    // 1 while an Append is running: a second concurrent appender would break the page-padding rule the reader
    // verifies (FASTER could then start a page with a record that would have fit on the previous one).
    private int _appendInProgress;
    private int _openReaders;

    // The first readable address. Raised by TruncateBefore before the new begin is made durable and before any
    // segment file is deleted, so a reader that finds a segment missing and then reads this sees the new begin
    // (the unlink happens after this write; Volatile orders the write before the commit and the deletes).
    private long _beginAddress;
    private volatile bool _disposed;
    private volatile Exception? _fault;

    private EventJournal(JournalOptions options, string directoryPath, CommitMetadataFile commits, Action<string> log)
    {
        _options = options;
        _directoryPath = directoryPath;
        _segmentBasePath = Path.Combine(directoryPath, SegmentFilePrefix);
        _commits = commits;
        _log = log;
    }

    /// <summary>
    /// Opens the journal in <see cref="JournalOptions.DirectoryPath"/>, creating it when absent and otherwise
    /// recovering it to its last commit.
    /// </summary>
    /// <param name="options">Settings; validated.</param>
    /// <param name="log">Receives warnings and recovery notes (one line each). Optional.</param>
    /// <exception cref="JournalRecoveryException">The commit metadata is missing or damaged, or FASTER failed to restore it.</exception>
    public static EventJournal Open(JournalOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        log ??= static _ => { };
        if (options.AcknowledgeBeforeFsync)
        {
            const string warning = "WARNING: journal AcknowledgeBeforeFsync is ON. Commit() returns BEFORE records are fsync'd; " +
                "a crash or power loss can lose records that were already acknowledged. BENCHMARKS ONLY, never in production.";
            Console.Error.WriteLine(warning);
            log(warning);
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

        CommitMetadataFile commits = CommitMetadataFile.Open(directoryPath, options.SegmentSizeBits, log);
        commits.FaultInjector = options.FaultInjector;
        var journal = new EventJournal(options, directoryPath, commits, log);
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
        log($"journal: opened '{directoryPath}' at commit {newest.CommitNum}, log epoch {newest.LogEpoch}: addresses [{newest.BeginAddress}, {newest.UntilAddress}) are durable");
        return journal;
    }

    /// <summary>
    /// Address of the first readable record. Starts at <see cref="FirstValidAddress"/>; only
    /// <see cref="TruncateBefore"/> raises it, and a restart recovers the raised value.
    /// </summary>
    public long BeginAddress => Volatile.Read(ref _beginAddress);

    /// <summary>Address the next <see cref="Append"/> will use (or the start of the next page, if it does not fit).</summary>
    public long TailAddress => _fasterLog.TailAddress;

    /// <summary>Every record before this address is durable: its data and the commit metadata are fsync'd.</summary>
    public long CommittedUntilAddress => _commits.DurableUntilAddress;

    /// <summary>
    /// How many times the committed log was cut back (<see cref="CutTail"/>): 0 for a log never cut. Durable in every
    /// commit slot; a cut raises it before any append can reuse the cut addresses (and with them the sequences of the
    /// events that were there). A reader that saw the log at another epoch may hold events this log no longer has.
    /// </summary>
    public long LogEpoch => _commits.LogEpoch;

    /// <summary>The largest payload <see cref="Append"/> accepts.</summary>
    public int MaxRecordBytes => _options.MaxRecordBytes;

    internal string SegmentBasePath => _segmentBasePath;

    internal int SegmentSizeBits => _options.SegmentSizeBits;

    internal int PageSizeBits => _options.PageSizeBits;

    /// <summary>
    /// Frames <paramref name="payload"/> (header with its CRC-32C) and enqueues it in memory; nothing is durable until
    /// a <see cref="Commit"/> that starts after this call returns. Blocks (spinning with yields) only while FASTER's
    /// in-memory buffer is full and waiting for a flush.
    /// </summary>
    /// <returns>The record's address.</returns>
    /// <exception cref="ArgumentException">The payload is larger than <see cref="JournalOptions.MaxRecordBytes"/>.</exception>
    public unsafe long Append(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > _options.MaxRecordBytes)
            throw new ArgumentException($"journal record payload is {payload.Length} bytes; the limit (JournalOptions.MaxRecordBytes) is {_options.MaxRecordBytes}.", nameof(payload));
        ThrowIfUnusable();
        _options.FaultInjector?.BeforeAppend(payload.Length);
        if (Interlocked.Exchange(ref _appendInProgress, 1) != 0)
            throw new InvalidOperationException("EventJournal.Append was called from two threads at once; the journal has a single appender.");
        try
        {
            FasterLog log = _fasterLog;
            int entrySize = RecordFormat.EntrySize(payload.Length);
            long address = log.TailAddress;
            long remainingOnPage = _options.PageSizeBytes - (address & (_options.PageSizeBytes - 1));
            if (entrySize > remainingOnPage)
            {
                // Fill the rest of the page explicitly, so FASTER never pads it with zeros (see RecordFormat).
                AppendFiller(log, address, (int)remainingOnPage);
                address += remainingOnPage;
            }

            uint crc = RecordFormat.ComputeCrc(0, payload.Length, payload);
            long actual;
            fixed (byte* pinned = payload)
            {
                actual = log.Enqueue(new FramedRecord(pinned, payload.Length, 0, crc));
            }
            CheckAppendAddress(address, actual);
            return actual;
        }
        catch (FasterException e)
        {
            // FASTER rethrows a failed flush on the next enqueue: the journal cannot go on.
            throw Fail(e, _fasterLog.TailAddress);
        }
        finally
        {
            Volatile.Write(ref _appendInProgress, 0);
        }
    }

    private unsafe void AppendFiller(FasterLog log, long address, int remainingOnPage)
    {
        if (remainingOnPage % RecordFormat.EntryAlignmentBytes != 0)
            throw Fault(new InvalidOperationException($"journal invariant broken: the tail {address} is not a multiple of {RecordFormat.EntryAlignmentBytes}"));
        long actual;
        if (remainingOnPage >= RecordFormat.FillerRecordBytesMin)
        {
            int payloadLength = remainingOnPage - RecordFormat.FasterLengthBytes - RecordFormat.HeaderBytes;
            uint crc = RecordFormat.ComputeCrc(RecordFormat.FlagFiller, payloadLength, []);
            actual = log.Enqueue(new FramedRecord(null, payloadLength, RecordFormat.FlagFiller, crc));
        }
        else
        {
            actual = log.Enqueue(new MiniFiller(remainingOnPage));
        }
        CheckAppendAddress(address, actual);
    }

    private void CheckAppendAddress(long expected, long actual)
    {
        // The reader relies on every byte of a page being an entry we wrote; an entry landing elsewhere means FASTER
        // padded (another appender?) and the log can no longer be verified: stop.
        if (actual != expected)
            throw Fault(new InvalidOperationException($"journal invariant broken: an entry expected at address {expected} was placed at {actual}"));
    }

    /// <summary>
    /// Makes every record appended before this call durable and blocks until it is (one fsync'd flush covers all of
    /// them: group commit). Returns at once when nothing new was appended.
    /// With <see cref="JournalOptions.AcknowledgeBeforeFsync"/> it starts the flush and returns without waiting.
    /// </summary>
    /// <returns>The committed-until address (in the benchmark mode: the address being committed).</returns>
    /// <exception cref="IOException">The flush or the metadata write failed; the journal accepts no more commits.</exception>
    public long Commit()
    {
        ThrowIfUnusable();
        FasterLog log = _fasterLog;
        long target = log.TailAddress;
        long durable = _commits.DurableUntilAddress;
        if (durable >= target) return durable;
        try
        {
            log.Commit(spinWait: false);
            if (_options.AcknowledgeBeforeFsync) return target;

            // Blocks this thread (no spinning: FASTER's own spinWait would burn a core through the fsync).
            ValueTask wait = log.WaitForCommitAsync(target, commitNum: 0);
            if (wait.IsCompleted) wait.GetAwaiter().GetResult();
            else WaitWithoutSpinning(wait.AsTask());
        }
        catch (FasterException e)
        {
            throw Fail(e, target);
        }
        return CheckDurable(target);
    }

    /// <summary>
    /// Blocks until <paramref name="task"/> completes, without the spinning that <c>Task.Wait</c> does first: on a
    /// 2-core machine that spin took half of the journal thread's samples, a core the producers and the GC need
    /// while the fsync is in flight.
    /// </summary>
    private static void WaitWithoutSpinning(Task task)
    {
        var done = new ManualResetEventSlim(initialState: false, spinCount: 1);
        task.ContinueWith(static (_, state) => ((ManualResetEventSlim)state!).Set(), done,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        done.Wait();
        task.GetAwaiter().GetResult();
    }

    /// <summary>Asynchronous <see cref="Commit"/>: completes once every record appended before the call is durable.</summary>
    public async ValueTask<long> CommitAsync(CancellationToken ct = default)
    {
        ThrowIfUnusable();
        FasterLog log = _fasterLog;
        long target = log.TailAddress;
        long durable = _commits.DurableUntilAddress;
        if (durable >= target) return durable;
        try
        {
            log.Commit(spinWait: false);
            if (_options.AcknowledgeBeforeFsync) return target;
            await log.WaitForCommitAsync(target, commitNum: 0, ct).ConfigureAwait(false);
        }
        catch (FasterException e)
        {
            throw Fail(e, target);
        }
        return CheckDurable(target);
    }

    /// <summary>
    /// Completes once <see cref="CommittedUntilAddress"/> is at least <paramref name="untilAddress"/>. Does not start
    /// a commit (someone else must): for readers tailing the live log.
    /// </summary>
    public async ValueTask WaitForCommitAsync(long untilAddress, CancellationToken ct)
    {
        // Bounded: each pass either returns or waits for FASTER's committed address to reach untilAddress, which
        // our durable address reaches first (it is set just before FASTER's) unless a commit failed.
        for (int pass = 0; ; pass++)
        {
            ThrowIfUnusable();
            if (_commits.DurableUntilAddress >= untilAddress) return;
            if (pass > 0)
                throw new InvalidOperationException($"FASTER reports address {untilAddress} committed but the journal's durable address is {_commits.DurableUntilAddress}");
            try
            {
                await _fasterLog.WaitForCommitAsync(untilAddress, commitNum: 0, ct).ConfigureAwait(false);
            }
            catch (FasterException e)
            {
                throw Fail(e, untilAddress);
            }
        }
    }

    /// <summary>
    /// Opens a reader of committed records starting at <paramref name="fromAddress"/>, which must be a record
    /// boundary (a record's address or next-address, <see cref="BeginAddress"/>, or a past <see cref="TailAddress"/>).
    /// </summary>
    public JournalReader OpenReader(long fromAddress)
    {
        ThrowIfDisposed();
        long begin = BeginAddress;
        long tail = TailAddress;
        if (fromAddress < begin)
            throw new JournalTruncatedException(fromAddress, begin);
        if (fromAddress > tail || fromAddress % RecordFormat.EntryAlignmentBytes != 0)
            throw new ArgumentOutOfRangeException(nameof(fromAddress), fromAddress, $"a reader must start at a record boundary in [{begin}, {tail}]");
        Interlocked.Increment(ref _openReaders);
        return new JournalReader(this, fromAddress, _segmentBasePath, _options.SegmentSizeBits, _options.PageSizeBits);
    }

    internal void OnReaderDisposed() => Interlocked.Decrement(ref _openReaders);

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
            _log($"journal: cut the torn tail [{fromAddress}, {durable}) ({durable - fromAddress} bytes that never verified); the log now ends at {fromAddress}, log epoch {cut.LogEpoch}");
        }
    }

    /// <summary>How long <see cref="TruncateBefore"/> waits for the commit that makes the new begin durable.</summary>
    public static readonly TimeSpan TruncateCommitTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Retention: makes every record before <paramref name="address"/> unreadable, durably, and deletes the segment
    /// files that lie entirely below it. <paramref name="address"/> must be a record boundary the journal handed out
    /// (a record's address or next-address, e.g. a snapshot's journal address) at or before
    /// <see cref="CommittedUntilAddress"/>. An address at or before the current <see cref="BeginAddress"/> changes
    /// nothing (the begin only moves forward). Blocks for one metadata commit (fdatasync), the unlinks and a directory
    /// fsync: call it off latency-sensitive threads.
    /// </summary>
    /// <remarks>
    /// <para>Order, so that a crash at any point leaves a consistent journal: (1) raise <see cref="BeginAddress"/> in
    /// memory, so new readers are refused and open readers stop at their next read; (2) FASTER's
    /// <c>TruncateUntil</c> plus a commit, which writes the new begin into a commit slot and fdatasyncs it (FASTER does
    /// not persist a truncation until the next commit); (3) only once that slot is durable, delete the segment files
    /// entirely below the begin and fsync the directory. A crash before (2) completes keeps the old begin with all
    /// its files; a crash between (2) and (3) leaves files below the durable begin, which <see cref="Open"/> deletes.
    /// The durable begin never points at a deleted file.</para>
    /// <para>FASTER also deletes those segments itself (asynchronously, on a thread-pool task started after the commit
    /// that carries the begin, possibly after this method returns); that is what closes its own write handles. Both
    /// deletes are idempotent and both only ever touch files below the durable begin.</para>
    /// </remarks>
    /// <returns>True when the begin moved; false when <paramref name="address"/> was at or before it already.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The address is beyond the committed end or not 8-byte aligned.</exception>
    /// <exception cref="ArgumentException">No record (or filler) starts at the address.</exception>
    /// <exception cref="IOException">The commit carrying the new begin failed; the journal accepts no more work.</exception>
    public bool TruncateBefore(long address)
    {
        lock (_lifecycleLock)
        {
            ThrowIfUnusable();
            long begin = BeginAddress;
            if (address <= begin) return false;
            long committed = _commits.DurableUntilAddress;
            if (address > committed || address % RecordFormat.EntryAlignmentBytes != 0)
                throw new ArgumentOutOfRangeException(nameof(address), address, $"the journal can be truncated only at a record boundary in [{begin}, {committed}] (the committed end)");
            if (address < committed) CheckRecordStartsAt(address, committed);

            Volatile.Write(ref _beginAddress, address);
            try
            {
                FasterLog log = _fasterLog;
                log.TruncateUntil(address);
                // A commit with nothing new to flush still writes metadata when the begin moved (FASTER's
                // ShouldCommmitMetadata), so this always produces a slot carrying the new begin.
                log.Commit(spinWait: false);
            }
            catch (FasterException e)
            {
                throw Fail(e, address);
            }
            try
            {
                _commits.WaitForDurableBegin(address, TruncateCommitTimeout);
            }
            catch (Exception e) when (e is IOException or TimeoutException)
            {
                throw Fail(e, address);
            }

            DeleteSegmentsBelow(address, "truncated by retention");
            _log($"journal: truncated before address {address} (was {begin}); segment files below {address >> _options.SegmentSizeBits} deleted");
            return true;
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless a verifying record or filler starts at <paramref name="address"/>.</summary>
    private void CheckRecordStartsAt(long address, long committed)
    {
        using var cursor = new LogPageCursor(_segmentBasePath, _options.SegmentSizeBits, _options.PageSizeBits);
        long page = cursor.PageOf(address);
        long pageStart = cursor.PageStart(page);
        int offset = (int)(address - pageStart);
        long entryEndMax = address + RecordFormat.EntrySize(_options.MaxRecordBytes);
        int until = (int)Math.Min(cursor.PageSize, Math.Min(committed, entryEndMax) - pageStart);
        int readable = cursor.Load(page, offset, until);
        EntryKind kind = RecordFormat.Parse(cursor.Page, offset, readable, cursor.PageSize, out _, out _, out _, out string? reason);
        if (kind == EntryKind.Bad)
            throw new ArgumentException($"no journal record starts at address {address} ({reason}); truncation needs a record boundary such as a snapshot's journal address", nameof(address));
    }

    /// <summary>
    /// Deletes the segment files whose whole address range lies below <paramref name="beginAddress"/>, then fsyncs
    /// the directory so the deletions survive power loss. A file that cannot be deleted is logged and left for the
    /// next call (it is never read again: it is below the begin).
    /// </summary>
    private int DeleteSegmentsBelow(long beginAddress, string why)
    {
        long firstKeptSegment = beginAddress >> _options.SegmentSizeBits;
        if (firstKeptSegment == 0) return 0;
        int deleted = 0;
        foreach ((long segment, string path) in ListSegmentFiles())
        {
            if (segment >= firstKeptSegment) continue;
            try
            {
                File.Delete(path);
                deleted++;
                _log($"journal: deleted segment file '{Path.GetFileName(path)}' ({why}; begin address {beginAddress})");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log($"journal: could not delete segment file '{path}' below begin address {beginAddress}: {e.Message}; it will be retried");
            }
        }
        if (deleted > 0) DurableFile.FlushDirectory(_directoryPath);
        return deleted;
    }

    private List<(long Segment, string Path)> ListSegmentFiles()
    {
        var segments = new List<(long, string)>();
        string prefix = SegmentFilePrefix + ".";
        foreach (string path in Directory.EnumerateFiles(_directoryPath, prefix + "*"))
        {
            string suffix = Path.GetFileName(path)[prefix.Length..];
            if (long.TryParse(suffix, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long segment))
                segments.Add((segment, path));
        }
        return segments;
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
    /// Fail-stop from outside: after this the journal commits nothing more (not even on <see cref="Dispose"/>), so
    /// records appended since the last commit are never made durable; a restart recovers to the last commit. For an
    /// engine whose pipeline failed: what it appended after the failure may be the half of a decision.
    /// </summary>
    public void Abandon(Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        if (_fault is not null) return;
        _fault = new IOException($"the journal was abandoned after a failure elsewhere; records after address {_commits.DurableUntilAddress} are not made durable", cause);
        _log($"journal: abandoned ({cause.Message}); nothing after address {_commits.DurableUntilAddress} will be committed");
    }

    /// <summary>
    /// Commits whatever was appended (a clean shutdown loses nothing, in either mode) and closes the log.
    /// </summary>
    /// <exception cref="IOException">The final commit failed; the records appended since the last successful commit are not durable.</exception>
    public void Dispose()
    {
        lock (_lifecycleLock)
        {
            if (_disposed) return;
            _disposed = true;
        }

        Exception? failure = null;
        try
        {
            if (_fault is null && _commits.Fault is null)
            {
                FasterLog log = _fasterLog;
                long target = log.TailAddress;
                if (_commits.DurableUntilAddress < target)
                {
                    log.Commit(spinWait: false);
                    log.WaitForCommitAsync(target, commitNum: 0).AsTask().GetAwaiter().GetResult();
                    CheckDurable(target);
                }
            }
        }
        catch (Exception e)
        {
            failure = e;
            _log($"journal: the final commit on close FAILED: {e.Message}");
        }
        finally
        {
            StopFaster();
            _commits.Dispose();
        }
        if (failure is not null)
            throw new IOException("journal: records appended before Dispose could not be made durable", failure);
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

    private void StopFaster()
    {
        _fasterLog.Dispose();
        _device.Dispose();
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

    private long CheckDurable(long target)
    {
        if (_commits.Fault is { } fault) throw Fail(fault, target);
        long durable = _commits.DurableUntilAddress;
        if (durable < target)
            throw new InvalidOperationException($"journal invariant broken: FASTER completed a commit to {target} but only {durable} is durable");
        return durable;
    }

    private IOException Fail(Exception cause, long target)
    {
        var failure = new IOException($"journal commit up to address {target} FAILED; records after {_commits.DurableUntilAddress} are not durable and the journal accepts no more work. Stop the engine.", cause);
        _fault ??= failure;
        _log(failure.Message + " Cause: " + cause.Message);
        return failure;
    }

    private Exception Fault(Exception e)
    {
        _fault ??= e;
        _log("journal: " + e.Message);
        return e;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private void ThrowIfUnusable()
    {
        ThrowIfDisposed();
        if (_fault is { } fault) throw new IOException("the journal failed earlier and accepts no more work", fault);
        if (_commits.Fault is { } commitFault) throw Fail(commitFault, TailAddress);
    }
}
