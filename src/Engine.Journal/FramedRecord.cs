using System.Buffers.Binary;
using FASTER.core;

namespace Engine.Journal;

/// <summary>
/// A payload and its precomputed checksum, serialised by FASTER straight into its log page as header + payload +
/// alignment zeros: one copy, no scratch buffer. Lives only for one <see cref="EventJournal.Append"/> call, while
/// the payload is pinned. With <see cref="RecordFormat.FlagFiller"/> it is a filler record of zeros instead.
/// </summary>
internal readonly unsafe struct FramedRecord : ILogEnqueueEntry
{
    private readonly byte* _payload;
    private readonly int _payloadLength;
    private readonly ushort _flags;
    private readonly uint _crc;

    public FramedRecord(byte* payload, int payloadLength, ushort flags, uint crc)
    {
        _payload = payload;
        _payloadLength = payloadLength;
        _flags = flags;
        _crc = crc;
    }

    public int SerializedLength => RecordFormat.EntryLength(_payloadLength);

    public void SerializeTo(Span<byte> dest)
    {
        var payload = _payload == null ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(_payload, _payloadLength);
        RecordFormat.WriteEntry(dest, _flags, _payloadLength, payload, _crc);
    }
}

/// <summary>A filler for a page remainder of 8 or 16 bytes, too small for a record header: "JFIL" then zeros.</summary>
internal readonly struct MiniFiller : ILogEnqueueEntry
{
    private readonly int _entryLength;

    public MiniFiller(int remainderBytes) => _entryLength = remainderBytes - RecordFormat.FasterLengthBytes;

    public int SerializedLength => _entryLength;

    public void SerializeTo(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(dest, RecordFormat.MiniFillerMagic);
        dest[sizeof(uint)..].Clear();
    }
}
