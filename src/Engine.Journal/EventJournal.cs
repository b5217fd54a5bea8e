using FASTER.core;

namespace Engine.Journal;

/// <summary>
/// The durable event log: checksummed records appended to a FASTER <see cref="FasterLog"/>, made durable in groups by
/// <see cref="Commit"/>. A reply may be sent only after the commit covering its event has returned. This file holds
/// append and commit; opening and recovery are in <c>EventJournal.Recovery.cs</c>, retention (truncating the front)
/// in <c>EventJournal.Retention.cs</c>.
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
public sealed partial class EventJournal : IDisposable
{
    /// <summary>FASTER's first valid log address (<c>Constants.kFirstValidAddress</c>): where an empty log begins.</summary>
    public const long FirstValidAddress = 64;

    /// <summary>File name prefix of the segment files: segment N is <c>journal.log.N</c>.</summary>
    public const string SegmentFilePrefix = "journal.log";

    private readonly JournalOptions _options;
    private readonly string _directoryPath;
    private readonly string _segmentBasePath;
    private readonly CommitMetadataFile _commits;
    private readonly ILogger _logger;
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

    private EventJournal(JournalOptions options, string directoryPath, CommitMetadataFile commits, ILogger logger)
    {
        _options = options;
        _directoryPath = directoryPath;
        _segmentBasePath = Path.Combine(directoryPath, SegmentFilePrefix);
        _commits = commits;
        _logger = logger;
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
    public int RecordBytesMax => _options.RecordBytesMax;

    internal string SegmentBasePath => _segmentBasePath;

    internal int SegmentSizeBits => _options.SegmentSizeBits;

    internal int PageSizeBits => _options.PageSizeBits;

    /// <summary>
    /// Frames <paramref name="payload"/> (header with its CRC-32C) and enqueues it in memory; nothing is durable until
    /// a <see cref="Commit"/> that starts after this call returns. Blocks (spinning with yields) only while FASTER's
    /// in-memory buffer is full and waiting for a flush.
    /// </summary>
    /// <returns>The record's address.</returns>
    /// <exception cref="ArgumentException">The payload is larger than <see cref="JournalOptions.RecordBytesMax"/>.</exception>
    public unsafe long Append(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > _options.RecordBytesMax)
            throw new ArgumentException($"journal record payload is {payload.Length} bytes; the limit (JournalOptions.RecordBytesMax) is {_options.RecordBytesMax}.", nameof(payload));
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
        if (!TryStartCommit(out FasterLog log, out long target, out long committed)) return committed;
        try
        {
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
    /// The start shared by <see cref="Commit"/> and <see cref="CommitAsync"/>: asks FASTER to flush everything up to the
    /// tail. Returns false, with the address to report in <paramref name="committed"/>, when there is nothing to wait
    /// for: nothing new was appended, or the benchmark mode acknowledges before the fsync.
    /// </summary>
    private bool TryStartCommit(out FasterLog log, out long target, out long committed)
    {
        ThrowIfUnusable();
        log = _fasterLog;
        target = log.TailAddress;
        committed = _commits.DurableUntilAddress;
        if (committed >= target) return false;
        try
        {
            log.Commit(spinWait: false);
        }
        catch (FasterException e)
        {
            throw Fail(e, target);
        }
        committed = target;
        return !_options.AcknowledgeBeforeFsync;
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
        if (!TryStartCommit(out FasterLog log, out long target, out long committed)) return committed;
        try
        {
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
    /// Fail-stop from outside: after this the journal commits nothing more (not even on <see cref="Dispose"/>), so
    /// records appended since the last commit are never made durable; a restart recovers to the last commit. For an
    /// engine whose pipeline failed: what it appended after the failure may be the half of a decision.
    /// </summary>
    public void Abandon(Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        if (_fault is not null) return;
        _fault = new IOException($"the journal was abandoned after a failure elsewhere; records after address {_commits.DurableUntilAddress} are not made durable", cause);
        _logger.LogError("journal: abandoned ({Cause}); nothing after address {DurableUntil} will be committed", cause.Message, _commits.DurableUntilAddress);
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
            _logger.LogError("journal: the final commit on close FAILED: {Error}", e.Message);
        }
        finally
        {
            StopFaster();
            _commits.Dispose();
        }
        if (failure is not null)
            throw new IOException("journal: records appended before Dispose could not be made durable", failure);
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
        _logger.LogError("{Failure} Cause: {Cause}", failure.Message, cause.Message);
        return failure;
    }

    private Exception Fault(Exception e)
    {
        _fault ??= e;
        _logger.LogCritical("journal: {Error}", e.Message);
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
