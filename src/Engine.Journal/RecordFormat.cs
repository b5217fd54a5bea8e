using System.Buffers.Binary;

namespace Engine.Journal;

/// <summary>
/// The on-disk shape of one journal record, and the pure functions that write and verify it.
/// </summary>
/// <remarks>
/// <para>A record is one FASTER log entry. FASTER (with <c>LogChecksumType.None</c>) prefixes each entry with a
/// 4-byte little-endian length and never lets an entry span a page. Inside the entry:</para>
/// <code>
///   offset 0  u32 magic        "JRNL"
///   offset 4  u16 version      1
///   offset 6  u16 flags        0, or FlagFiller
///   offset 8  u32 payloadLength
///   offset 12 u32 crc32c       over bytes [0, 12) of this header, then the payload (a filler: the header only)
///   offset 16 payload, then 0-7 zero bytes so that the entry (length prefix included) is a multiple of 8 bytes
/// </code>
/// <para>All integers are little-endian.</para>
/// <para><b>No implicit padding.</b> When a record does not fit in the rest of a page, FASTER would leave that rest
/// zeroed and start the next page. Zeros cannot be told apart from erased records, and whether the next record
/// "would have fit" does not survive a crash between pages, so the journal never lets FASTER pad: it first fills
/// the rest of the page with an explicit filler entry. Entries are multiples of 8 bytes, so the rest of a page is
/// 8, 16, or at least 24 bytes: a filler record (flags = FlagFiller, zero payload) for 24 and more, or a mini
/// filler (FASTER length 4 or 12: "JFIL" then zeros) for 8 and 16. A filler must end exactly at its page's end.
/// A zero length prefix anywhere in the committed log is therefore always damage.</para>
/// </remarks>
internal static class RecordFormat
{
    public const uint Magic = 0x4C4E524Au; // "JRNL" as little-endian bytes
    public const uint MiniFillerMagic = 0x4C49464Au; // "JFIL"
    public const ushort Version = 1;
    public const ushort FlagFiller = 1;
    public const int HeaderBytes = 16;

    /// <summary>FASTER's per-entry length prefix (no FASTER checksum: ours covers the entry).</summary>
    public const int FasterLengthBytes = 4;

    /// <summary>Every entry (length prefix included) is a multiple of this, so every record address is too.</summary>
    public const int EntryAlignmentBytes = 8;

    /// <summary>Smallest page remainder a filler record (with a full header) can fill.</summary>
    public const int FillerRecordBytesMin = FasterLengthBytes + HeaderBytes + 4; // 24: the next multiple of 8 above 20

    /// <summary>The length FASTER stores for a record with <paramref name="payloadLength"/> payload bytes.</summary>
    public static int EntryLength(int payloadLength) => EntrySize(payloadLength) - FasterLengthBytes;

    /// <summary>Bytes a record with <paramref name="payloadLength"/> payload bytes occupies in the log.</summary>
    public static int EntrySize(int payloadLength) =>
        (FasterLengthBytes + HeaderBytes + payloadLength + (EntryAlignmentBytes - 1)) & ~(EntryAlignmentBytes - 1);

    /// <summary>Largest payload whose record still fits on one page.</summary>
    public static long PayloadBytesPerPageMax(long pageSizeBytes) =>
        pageSizeBytes - FasterLengthBytes - HeaderBytes;

    /// <summary>Checksum of a record: the header fields before the crc, then the payload.</summary>
    public static uint ComputeCrc(ushort flags, int payloadLength, ReadOnlySpan<byte> payload)
    {
        Span<byte> prefix = stackalloc byte[12];
        WriteHeaderPrefix(prefix, flags, payloadLength);
        return Crc32C.Finish(Crc32C.Update(Crc32C.Update(Crc32C.InitialState, prefix), payload));
    }

    /// <summary>
    /// Writes a complete entry body (what follows FASTER's length prefix) of <see cref="EntryLength"/> bytes:
    /// header, payload, zero alignment bytes. A filler has an all-zero payload of <paramref name="payloadLength"/>
    /// bytes and <paramref name="payload"/> is ignored.
    /// </summary>
    public static void WriteEntry(Span<byte> destination, ushort flags, int payloadLength, ReadOnlySpan<byte> payload, uint crc)
    {
        WriteHeaderPrefix(destination, flags, payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], crc);
        Span<byte> body = destination[HeaderBytes..];
        if ((flags & FlagFiller) != 0)
        {
            body.Clear();
            return;
        }
        payload.CopyTo(body);
        body[payload.Length..].Clear();
    }

    private static void WriteHeaderPrefix(Span<byte> destination, ushort flags, int payloadLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)payloadLength);
    }

    /// <summary>
    /// Verifies the FASTER entry starting at <paramref name="offset"/> of <paramref name="page"/>.
    /// <paramref name="page"/> holds the bytes of one log page from offset 0; <paramref name="availableEnd"/> is where
    /// the bytes that are both readable and committed end (exclusive, at most <paramref name="pageSize"/>).
    /// Never reads past it.
    /// </summary>
    /// <returns>
    /// <see cref="EntryKind.Record"/> with the payload's offset and length, <see cref="EntryKind.Filler"/>, or
    /// <see cref="EntryKind.Bad"/> with a reason; <paramref name="entrySize"/> is the entry's size in the log.
    /// </returns>
    public static EntryKind Parse(ReadOnlySpan<byte> page, int offset, int availableEnd, int pageSize,
        out int payloadOffset, out int payloadLength, out int entrySize, out string? badReason)
    {
        payloadOffset = 0;
        payloadLength = 0;
        entrySize = 0;
        badReason = null;
        if (offset % EntryAlignmentBytes != 0)
        {
            badReason = $"offset {offset} in its page is not a multiple of {EntryAlignmentBytes}";
            return EntryKind.Bad;
        }
        if (availableEnd - offset < FasterLengthBytes)
        {
            badReason = "the entry's length prefix lies beyond the readable committed bytes (segment file too short?)";
            return EntryKind.Bad;
        }

        int entryLength = BinaryPrimitives.ReadInt32LittleEndian(page[offset..]);
        if (entryLength <= 0)
        {
            badReason = entryLength == 0
                ? "the FASTER length prefix is zero (this journal never leaves zeros inside the committed log)"
                : $"the FASTER length prefix is negative ({entryLength}); this journal never writes FASTER commit records";
            return EntryKind.Bad;
        }
        if (entryLength > pageSize - offset - FasterLengthBytes)
        {
            badReason = $"the FASTER length prefix ({entryLength}) runs past the end of its page";
            return EntryKind.Bad;
        }
        int size = FasterLengthBytes + entryLength;
        if (size % EntryAlignmentBytes != 0)
        {
            badReason = $"the FASTER length prefix ({entryLength}) is not one this journal writes (entries are multiples of {EntryAlignmentBytes} bytes)";
            return EntryKind.Bad;
        }
        if (offset + size > availableEnd)
        {
            badReason = $"the entry ({entryLength} bytes) runs past the readable committed bytes (segment file too short?)";
            return EntryKind.Bad;
        }

        ReadOnlySpan<byte> entry = page.Slice(offset + FasterLengthBytes, entryLength);
        if (entryLength < HeaderBytes)
            return ParseMiniFiller(entry, offset + size == pageSize, out entrySize, out badReason, size);

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(entry);
        if (magic != Magic)
        {
            badReason = $"the record magic is 0x{magic:X8}, expected 0x{Magic:X8}";
            return EntryKind.Bad;
        }
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(entry[4..]);
        if (version != Version)
        {
            badReason = $"the record format version is {version}; this build reads version {Version}";
            return EntryKind.Bad;
        }
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(entry[6..]);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
        if (length > int.MaxValue || EntryLength((int)length) != entryLength)
        {
            badReason = $"the record header says {length} payload bytes, which does not match the FASTER entry length {entryLength}";
            return EntryKind.Bad;
        }
        if ((flags & ~FlagFiller) != 0)
        {
            badReason = $"the record flags 0x{flags:X4} hold unknown bits";
            return EntryKind.Bad;
        }

        bool filler = (flags & FlagFiller) != 0;
        ReadOnlySpan<byte> payload = entry.Slice(HeaderBytes, (int)length);
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]);
        uint actualCrc = ComputeCrc(flags, (int)length, filler ? [] : payload);
        if (actualCrc != storedCrc)
        {
            badReason = $"the record checksum is 0x{actualCrc:X8} but the header says 0x{storedCrc:X8}";
            return EntryKind.Bad;
        }
        if (entry[(HeaderBytes + (int)length)..].ContainsAnyExcept((byte)0))
        {
            badReason = "the alignment bytes after the payload are not zero";
            return EntryKind.Bad;
        }

        entrySize = size;
        if (filler)
        {
            if (offset + size != pageSize)
            {
                badReason = "a filler record that does not end at the end of its page";
                return EntryKind.Bad;
            }
            if (payload.ContainsAnyExcept((byte)0))
            {
                badReason = "a filler record whose payload is not all zeros";
                return EntryKind.Bad;
            }
            return EntryKind.Filler;
        }

        payloadOffset = offset + FasterLengthBytes + HeaderBytes;
        payloadLength = (int)length;
        return EntryKind.Record;
    }

    private static EntryKind ParseMiniFiller(ReadOnlySpan<byte> entry, bool endsAtPageEnd, out int entrySize, out string? badReason, int size)
    {
        entrySize = 0;
        badReason = null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(entry) != MiniFillerMagic || entry[4..].ContainsAnyExcept((byte)0))
        {
            badReason = $"the FASTER length prefix ({entry.Length}) is shorter than a record header but the entry is not a mini filler";
            return EntryKind.Bad;
        }
        if (!endsAtPageEnd)
        {
            badReason = "a mini filler that does not end at the end of its page";
            return EntryKind.Bad;
        }
        entrySize = size;
        return EntryKind.Filler;
    }
}

internal enum EntryKind
{
    Record,
    Filler,
    Bad,
}
