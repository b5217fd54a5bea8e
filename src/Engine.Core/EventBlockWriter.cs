using Engine.Domain;
using Engine.Journal;

namespace Engine.Core;

/// <summary>
/// The decide stage's event sink: encodes each event into a reusable buffer and appends the buffer to the
/// journal as one record when it is nearly full or the ring batch ends. Owned by the decide thread.
/// </summary>
internal sealed class EventBlockWriter(EventJournal journal, int recordBytesMax) : IEventSink
{
    private readonly byte[] _buffer = new byte[recordBytesMax];
    private int _length = EventBlock.HeaderBytes;
    private int _count;

    public void OnEvent(in LedgerEvent ledgerEvent)
    {
        if (_buffer.Length - _length < EventCodec.EncodedSizeMax) Flush();
        _length += EventCodec.Encode(ledgerEvent, _buffer.AsSpan(_length));
        _count++;
    }

    /// <summary>Appends the buffered events (if any) as one journal record.</summary>
    public void Flush()
    {
        if (_count == 0) return;
        EventBlock.WriteCount(_buffer, _count);
        journal.Append(_buffer.AsSpan(0, _length));
        _length = EventBlock.HeaderBytes;
        _count = 0;
    }
}
