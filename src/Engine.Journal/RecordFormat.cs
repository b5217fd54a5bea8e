using System.Buffers.Binary;

namespace Engine.Journal;

/// <summary>
/// The on-disk shape of one journal record, and the pure functions that write and verify it.
/// </summary>
/// <remarks>
/// A record is one FASTER log entry. FASTER (with <c>LogChecksumType.None</c>) prefixes each entry with a 4-byte
/// little-endian length and pads it to a multiple of 4 bytes; an entry never spans a page, and when the next entry
/// does not fit in the rest of a page FASTER leaves that rest zeroed and starts the next page. Inside the entry:
/// <code>
///   offset 0  u32 magic        "JRNL"
///   offset 4  u16 version      1
///   offset 6  u16 flags        0 (reserved)
///   offset 8  u32 payloadLength
///   offset 12 u32 crc32c       over bytes [0, 12) of this header, then the payload
///   offset 16 payload
/// </code>
/// All integers are little-endian.
/// </remarks>
internal static class RecordFormat
{
    public const uint Magic = 0x4C4E524Au; // "JRNL" as little-endian bytes
    public const ushort Version = 1;
    public const int HeaderBytes = 16;

    /// <summary>FASTER's per-entry length prefix (no FASTER checksum: ours covers the entry).</summary>
    public const int FasterLengthBytes = 4;

    /// <summary>FASTER aligns entries to this many bytes.</summary>
    public const int FasterAlignmentBytes = 4;

    /// <summary>Bytes a FASTER entry of <paramref name="entryLength"/> bytes occupies in the log, length prefix included.</summary>
    public static long FasterEntrySize(long entryLength) =>
        FasterLengthBytes + ((entryLength + (FasterAlignmentBytes - 1)) & ~(long)(FasterAlignmentBytes - 1));

    /// <summary>Largest payload whose record still fits on one page.</summary>
    public static long MaxPayloadBytesForPage(long pageSizeBytes) =>
        pageSizeBytes - FasterLengthBytes - HeaderBytes;

    /// <summary>Checksum of a record: the header fields before the crc, then the payload.</summary>
    public static uint ComputeCrc(ushort flags, int payloadLength, ReadOnlySpan<byte> payload)
    {
        Span<byte> prefix = stackalloc byte[12];
        WriteHeaderPrefix(prefix, flags, payloadLength);
        return Crc32C.Finish(Crc32C.Update(Crc32C.Update(Crc32C.InitialState, prefix), payload));
    }

    /// <summary>Writes the 16-byte header for <paramref name="payload"/> into <paramref name="destination"/>.</summary>
    public static void WriteHeader(Span<byte> destination, ushort flags, ReadOnlySpan<byte> payload, uint crc)
    {
        WriteHeaderPrefix(destination, flags, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], crc);
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
    /// the bytes that are both readable and committed end (exclusive, at most the page size). Never reads past it.
    /// </summary>
    /// <returns>
    /// <see cref="EntryKind.Record"/> with the payload's offset, length and the entry's size in the log;
    /// <see cref="EntryKind.ZeroLength"/> when the length prefix is zero (padding, or zeroed data: the caller decides);
    /// <see cref="EntryKind.Bad"/> with a reason otherwise.
    /// </returns>
    public static EntryKind Parse(ReadOnlySpan<byte> page, int offset, int availableEnd, int pageSize,
        out int payloadOffset, out int payloadLength, out int entrySize, out string? badReason)
    {
        payloadOffset = 0;
        payloadLength = 0;
        entrySize = 0;
        badReason = null;
        if (availableEnd - offset < FasterLengthBytes)
        {
            badReason = "the entry's length prefix lies beyond the readable committed bytes (segment file too short?)";
            return EntryKind.Bad;
        }

        int entryLength = BinaryPrimitives.ReadInt32LittleEndian(page[offset..]);
        if (entryLength == 0)
            return EntryKind.ZeroLength;
        if (entryLength < 0)
        {
            badReason = $"the FASTER length prefix is negative ({entryLength}); this journal never writes FASTER commit records";
            return EntryKind.Bad;
        }
        if (entryLength < HeaderBytes)
        {
            badReason = $"the FASTER length prefix ({entryLength}) is shorter than a record header ({HeaderBytes} bytes)";
            return EntryKind.Bad;
        }

        long size = FasterEntrySize(entryLength);
        if (offset + size > pageSize)
        {
            badReason = $"the FASTER length prefix ({entryLength}) runs past the end of its page";
            return EntryKind.Bad;
        }
        if (offset + size > availableEnd)
        {
            badReason = $"the entry ({entryLength} bytes) runs past the readable committed bytes (segment file too short?)";
            return EntryKind.Bad;
        }

        ReadOnlySpan<byte> header = page.Slice(offset + FasterLengthBytes, HeaderBytes);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (magic != Magic)
        {
            badReason = $"the record magic is 0x{magic:X8}, expected 0x{Magic:X8}";
            return EntryKind.Bad;
        }
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (version != Version)
        {
            badReason = $"the record format version is {version}; this build reads version {Version}";
            return EntryKind.Bad;
        }
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (length != (uint)(entryLength - HeaderBytes))
        {
            badReason = $"the record header says {length} payload bytes but the FASTER entry holds {entryLength - HeaderBytes}";
            return EntryKind.Bad;
        }
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        ReadOnlySpan<byte> payload = page.Slice(offset + FasterLengthBytes + HeaderBytes, (int)length);
        uint actualCrc = ComputeCrc(flags, (int)length, payload);
        if (actualCrc != storedCrc)
        {
            badReason = $"the record checksum is 0x{actualCrc:X8} but the header says 0x{storedCrc:X8}";
            return EntryKind.Bad;
        }

        payloadOffset = offset + FasterLengthBytes + HeaderBytes;
        payloadLength = (int)length;
        entrySize = (int)size;
        return EntryKind.Record;
    }
}

internal enum EntryKind
{
    Record,
    ZeroLength,
    Bad,
}
