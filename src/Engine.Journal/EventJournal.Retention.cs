using FASTER.core;

namespace Engine.Journal;

/// <summary>
/// The journal's retention: moving the begin address forward durably and deleting the segment files below it, in an
/// order that leaves a consistent journal after a crash at any point.
/// </summary>
public sealed partial class EventJournal
{
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
            _logger.LogInformation("journal: truncated before address {Address} (was {PreviousBegin}); segment files below " +
                "{FirstKeptSegment} deleted",
                address, begin, address >> _options.SegmentSizeBits);
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
        long entryEndMax = address + RecordFormat.EntrySize(_options.RecordBytesMax);
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
                _logger.LogInformation("journal: deleted segment file '{SegmentFile}' ({Reason}; begin address {BeginAddress})",
                    Path.GetFileName(path), why, beginAddress);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning("journal: could not delete segment file '{SegmentFile}' below begin address {BeginAddress}: {Error}; " +
                    "it will be retried",
                    path, beginAddress, e.Message);
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
}
