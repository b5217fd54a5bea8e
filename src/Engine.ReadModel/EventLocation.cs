using System.Runtime.InteropServices;

namespace Engine.ReadModel;

/// <summary>
/// Where one event sits in the journal: the address of its record and its byte offset inside the record's payload.
/// The whole 63-bit non-negative address is kept: FASTER addresses only grow for the lifetime of a log (retention
/// moves the begin, never restarts the count), and FasterLog's tail — a 32-bit page number and an offset in the page
/// — reaches far past 2^48 with large pages, so no address a log can produce may be refused (issue 9: a packed
/// <c>address &lt;&lt; 20 | offset</c> long threw past 2^43). Packed to 12 bytes (no padding to 16), ordered by
/// address, then offset: the order of events in the log.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal readonly record struct EventLocation : IComparable<EventLocation>
{
    /// <summary>Largest payload offset: a record payload is at most 1 MiB (Engine:JournalRecordBytesMax).</summary>
    public const int PayloadOffsetMax = (1 << 20) - 1;

    public EventLocation(long recordAddress, int payloadOffset)
    {
        // Always-on: a location outside the log's address space would send ListEvents to the wrong bytes.
        if (recordAddress < 0 || (uint)payloadOffset > PayloadOffsetMax)
            throw new InvalidOperationException($"event location (address {recordAddress}, offset {payloadOffset}) is not a journal position");
        RecordAddress = recordAddress;
        PayloadOffset = payloadOffset;
    }

    public long RecordAddress { get; }

    public int PayloadOffset { get; }

    public int CompareTo(EventLocation other)
    {
        int byAddress = RecordAddress.CompareTo(other.RecordAddress);
        return byAddress != 0 ? byAddress : PayloadOffset.CompareTo(other.PayloadOffset);
    }

    public static bool operator <(EventLocation left, EventLocation right) => left.CompareTo(right) < 0;
    public static bool operator >(EventLocation left, EventLocation right) => left.CompareTo(right) > 0;
    public static bool operator <=(EventLocation left, EventLocation right) => left.CompareTo(right) <= 0;
    public static bool operator >=(EventLocation left, EventLocation right) => left.CompareTo(right) >= 0;

    /// <summary>
    /// Decodes a location of the old packed form (<c>address &lt;&lt; 20 | offset</c>, read-model snapshot format RMX1),
    /// which only ever held addresses below 2^43.
    /// </summary>
    public static EventLocation FromLegacyPacked(long packed)
    {
        if (packed < 0) throw new FormatException($"read-model snapshot: packed event location {packed} is negative");
        return new EventLocation(packed >>> LegacyOffsetBits, (int)(packed & PayloadOffsetMax));
    }

    private const int LegacyOffsetBits = 20;
}
