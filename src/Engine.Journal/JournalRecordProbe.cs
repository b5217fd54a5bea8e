using System.Buffers.Binary;

namespace Engine.Journal;

/// <summary>
/// Reads single committed records at chosen addresses — a page start, or a record boundary the journal handed out —
/// without reading the rest of the page. Retention uses it to binary-search the log by the first event of a page
/// (sequences and engine timestamps only grow along the log), so finding "the oldest record younger than 7 days"
/// costs about log2(pages) record reads, not a scan. Every record read is verified like <see cref="JournalReader"/>
/// verifies it. Not thread-safe: one probe per thread.
/// </summary>
public sealed class JournalRecordProbe : IDisposable
{
    private readonly EventJournal _journal;
    private readonly LogPageCursor _cursor;

    public JournalRecordProbe(EventJournal journal)
    {
        _journal = journal;
        _cursor = new LogPageCursor(journal.SegmentBasePath, journal.SegmentSizeBits, journal.PageSizeBits);
    }

    /// <summary>Bytes of a journal page (every page start is a record boundary: the journal fills pages to their end).</summary>
    public long PageSizeBytes => 1L << _journal.PageSizeBits;

    /// <summary>
    /// Reads the record starting at <paramref name="address"/>, stepping over a filler to the next page. Returns false
    /// at or beyond the committed end. The payload is valid until the next call.
    /// </summary>
    /// <exception cref="JournalTruncatedException">The address lies before the journal's begin.</exception>
    /// <exception cref="JournalCorruptException">The entry at the address does not verify.</exception>
    public bool TryRead(long address, out ReadOnlySpan<byte> payload, out long recordAddress, out long nextAddress)
    {
        payload = default;
        // Bounded: at most one filler is stepped over (it ends its page; the next page starts with a record).
        for (int step = 0; step < 2; step++)
        {
            recordAddress = address;
            nextAddress = address;
            long begin = _journal.BeginAddress;
            if (address < begin) throw new JournalTruncatedException(address, begin);
            long limit = _journal.CommittedUntilAddress;
            if (address >= limit) return false;
            long page = _cursor.PageOf(address);
            long pageStart = _cursor.PageStart(page);
            int offset = (int)(address - pageStart);
            int committedEnd = (int)Math.Min(_cursor.PageSize, limit - pageStart);
            int readable = _cursor.Load(page, offset, Math.Min(committedEnd, offset + RecordFormat.FasterLengthBytes));
            if (readable - offset >= RecordFormat.FasterLengthBytes)
            {
                // Load only this entry (when its length prefix is plausible); Parse checks everything.
                int entryLength = BinaryPrimitives.ReadInt32LittleEndian(_cursor.Page[offset..]);
                long entryEnd = (long)offset + RecordFormat.FasterLengthBytes + Math.Max(0, entryLength);
                readable = _cursor.Load(page, offset, (int)Math.Min(committedEnd, entryEnd));
            }
            EntryKind kind = RecordFormat.Parse(_cursor.Page, offset, readable, _cursor.PageSize,
                out int payloadOffset, out int payloadLength, out int entrySize, out string? badReason);
            if (kind == EntryKind.Record)
            {
                payload = _cursor.Page.Slice(payloadOffset, payloadLength);
                nextAddress = address + entrySize;
                return true;
            }
            if (kind == EntryKind.Bad)
                throw new JournalCorruptException(address, $"journal entry at address {address} does not verify: {badReason}");
            address += entrySize;
        }
        recordAddress = address;
        nextAddress = address;
        return false;
    }

    public void Dispose() => _cursor.Dispose();
}
