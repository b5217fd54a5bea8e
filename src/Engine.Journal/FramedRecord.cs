using FASTER.core;

namespace Engine.Journal;

/// <summary>
/// A payload and its precomputed checksum, serialised by FASTER straight into its log page as header + payload:
/// one copy, no scratch buffer. Only lives for the duration of one <see cref="EventJournal.Append"/> call, while
/// the payload is pinned.
/// </summary>
internal readonly unsafe struct FramedRecord : ILogEnqueueEntry
{
    private readonly byte* _payload;
    private readonly int _payloadLength;
    private readonly uint _crc;

    public FramedRecord(byte* payload, int payloadLength, uint crc)
    {
        _payload = payload;
        _payloadLength = payloadLength;
        _crc = crc;
    }

    public int SerializedLength => RecordFormat.HeaderBytes + _payloadLength;

    public void SerializeTo(Span<byte> dest)
    {
        var payload = new ReadOnlySpan<byte>(_payload, _payloadLength);
        RecordFormat.WriteHeader(dest, flags: 0, payload, _crc);
        payload.CopyTo(dest[RecordFormat.HeaderBytes..]);
    }
}
