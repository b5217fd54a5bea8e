namespace Engine.Journal;

/// <summary>
/// Reads committed journal records in address order, verifying each one. Not thread-safe: one reader per thread.
/// </summary>
/// <remarks>
/// <para>Shape: <see cref="TryReadNext"/> hands out the payload as a span over the reader's page buffer, valid until
/// the next call or <see cref="Dispose"/>; no allocation per record.</para>
/// <para>The reader reads FASTER's segment files directly rather than through FASTER's scan iterator, because that
/// iterator, given damaged bytes, silently skips to the next page on a zero length, treats a negative length as a
/// commit record and skips it, and after a short read can hand back stale bytes from a reused frame buffer. Here
/// every byte up to the committed end must be an entry that verifies: a record, or a filler that ends its page
/// (see <see cref="RecordFormat"/>).</para>
/// <para>At a bad entry the reader scans the rest of the committed region for any record that verifies. None:
/// the log ends in a torn write, <see cref="TryReadNext"/> returns false and <see cref="EndState"/> is
/// <see cref="JournalReadEndKind.TornTail"/> at the bad entry. Some: the middle of the log is damaged and
/// <see cref="TryReadNext"/> throws <see cref="JournalCorruptException"/>.</para>
/// <para>After false, a later call continues if more has been committed since (live tailing; see
/// <see cref="EventJournal.WaitForCommitAsync"/>).</para>
/// <para>Retention: once <see cref="EventJournal.TruncateBefore"/> has moved the begin past <see cref="NextAddress"/>,
/// <see cref="TryReadNext"/> throws <see cref="JournalTruncatedException"/> — also when the segment file vanished under
/// the read, never a misleading torn tail or corruption report.</para>
/// </remarks>
public sealed class JournalReader : IDisposable
{
    private readonly EventJournal _journal;
    private readonly LogPageCursor _cursor;
    private long _next;

    // A torn tail found at _tornAddress while the committed end was _tornLimit: not re-scanned until the end moves.
    private long _tornAddress = -1;
    private long _tornLimit;
    private bool _disposed;

    internal JournalReader(EventJournal journal, long fromAddress, string segmentBasePath, int segmentSizeBits, int pageSizeBits)
    {
        _journal = journal;
        _next = fromAddress;
        _cursor = new LogPageCursor(segmentBasePath, segmentSizeBits, pageSizeBits);
    }

    /// <summary>Why the last <see cref="TryReadNext"/> returned false (<see cref="JournalReadEndKind.None"/> after a record).</summary>
    public JournalReadEnd EndState { get; private set; }

    /// <summary>Address of the next record this reader will return.</summary>
    public long NextAddress => _next;

    /// <summary>
    /// Reads the next committed record. Returns false at the end of the committed data (see <see cref="EndState"/>).
    /// </summary>
    /// <param name="payload">The record's payload; valid until the next call or Dispose.</param>
    /// <param name="address">The record's address.</param>
    /// <param name="nextAddress">The address just after the record (where the next one starts, or the tail).</param>
    /// <exception cref="JournalCorruptException">An entry fails verification and a valid record follows it.</exception>
    /// <exception cref="JournalTruncatedException">Retention truncated the journal past <see cref="NextAddress"/>.</exception>
    public bool TryReadNext(out ReadOnlySpan<byte> payload, out long address, out long nextAddress)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long limit = _journal.CommittedUntilAddress;
        payload = default;

        // Bounded: each pass returns, or steps over a filler to the next page (at most one pass per page).
        while (true)
        {
            address = _next;
            nextAddress = _next;
            ThrowIfTruncated();
            if (_tornAddress >= 0)
            {
                if (limit == _tornLimit)
                {
                    EndState = JournalReadEnd.TornTail(_tornAddress);
                    return false;
                }
                _tornAddress = -1; // more was committed since: look again
            }
            if (_next >= limit)
            {
                EndState = JournalReadEnd.Clean(_next);
                return false;
            }

            long page = _cursor.PageOf(_next);
            long pageStart = _cursor.PageStart(page);
            int offset = (int)(_next - pageStart);
            int committedEnd = (int)Math.Min(_cursor.PageSize, limit - pageStart);
            int readableEnd = _cursor.Load(page, offset, committedEnd);
            EntryKind kind = RecordFormat.Parse(_cursor.Page, offset, readableEnd, _cursor.PageSize,
                out int payloadOffset, out int payloadLength, out int entrySize, out string? badReason);

            if (kind == EntryKind.Record)
            {
                payload = _cursor.Page.Slice(payloadOffset, payloadLength);
                nextAddress = _next + entrySize;
                _next = nextAddress;
                EndState = default;
                return true;
            }
            if (kind == EntryKind.Filler)
            {
                _next += entrySize; // the start of the next page
                continue;
            }

            // A bad entry. First: did retention delete the segment under us? It raises the begin before deleting
            // anything, so a file that vanished mid-read shows up here as a begin beyond this record.
            ThrowIfTruncated();
            // A torn tail when nothing valid follows it, damage in the middle of the log otherwise.
            long validAfter = _cursor.FindValidRecord(_next + RecordFormat.EntryAlignmentBytes, limit);
            if (validAfter >= 0)
                throw Corrupt(_next, badReason ?? "it does not verify", validAfter);
            _tornAddress = _next;
            _tornLimit = limit;
            EndState = JournalReadEnd.TornTail(_next);
            return false;
        }
    }

    private void ThrowIfTruncated()
    {
        long begin = _journal.BeginAddress;
        if (_next < begin) throw new JournalTruncatedException(_next, begin);
    }

    private static JournalCorruptException Corrupt(long address, string reason, long validAfter) =>
        new(address,
            $"journal record at address {address} is corrupt: {reason}. A valid record follows at address {validAfter}, " +
            "so this is damage in the middle of the log, not a torn tail that could be cut. " +
            "Start-up is stopped to avoid serving wrong balances; restore the journal from a replica or backup.");

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _cursor.Dispose();
        _journal.OnReaderDisposed();
    }
}
