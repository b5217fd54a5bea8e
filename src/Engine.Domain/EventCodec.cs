using System.Buffers.Binary;
using System.Text;

namespace Engine.Domain;

/// <summary>
/// Versioned little-endian binary encoding of <see cref="LedgerEvent"/>. Format version 1:
/// <code>
/// u8 version | u8 type | u8 command | u8 status | u8 flags (1 = authorization closed, 2 = final, 4 = has controls)
/// i64 sequence | i64 timestamp_unix_ms | u64 payload_fingerprint
/// i64 amount | i64 hold_released | i64 expires_at_unix_ms | i64 held | i64 posted | i64 available
/// u16 currency | u8 overcapture_percent | i16 mcc
/// str request_id | str account_id | str authorization_id | str customer_id | str merchant_id | str reason
/// [controls: i64 max_authorization | i32 velocity_count | i64 velocity_amount | i32 window_seconds | u8 n | i16 × n mccs]
/// [lifecycle (flag 8): see <see cref="LifecycleCodec"/>]
/// [actor (flag 16): str actor]
/// [previous amount (flag 32): i64 previous_amount]
/// </code>
/// Flag 8 was added with the credit lifecycle, flags 16 and 32 with the audit trail; events written before a flag
/// existed never set it and decode unchanged.
/// where <c>str</c> is a u16 length (0xFFFF = absent) followed by that many ASCII bytes. Integrity
/// (checksums) belongs to the journal record that carries the events.
/// </summary>
public static class EventCodec
{
    public const byte FormatVersion = 1;
    /// <summary>An upper bound on one encoded event: fixed part + six strings at their validated maxima + controls.</summary>
    public const int EncodedSizeMax = 96 + 5 * (2 + CommandValidator.IdLengthMax) + (2 + CommandValidator.ReasonLengthMax) + 32 + 2 * CommandValidator.BlockedMccCountMax
        + LifecycleCodec.EncodedSizeMax + (2 + CommandValidator.IdLengthMax) + 8;

    private const byte FlagAuthorizationClosed = 1;
    private const byte FlagFinal = 2;
    private const byte FlagHasControls = 4;
    private const byte FlagHasLifecycle = 8;
    private const byte FlagHasActor = 16;
    private const byte FlagHasPreviousAmount = 32;
    private const ushort AbsentString = 0xFFFF;

    /// <summary>Writes <paramref name="e"/> into <paramref name="destination"/> (at least <see cref="EncodedSizeMax"/> bytes free); returns the bytes written.</summary>
    public static int Encode(in LedgerEvent e, Span<byte> destination)
    {
        byte flags = (byte)((e.AuthorizationClosed ? FlagAuthorizationClosed : 0) | (e.Final ? FlagFinal : 0) | (e.Controls is not null ? FlagHasControls : 0)
            | (e.Lifecycle is not null ? FlagHasLifecycle : 0) | (e.Actor is not null ? FlagHasActor : 0) | (e.PreviousAmountMinor is not null ? FlagHasPreviousAmount : 0));
        destination[0] = FormatVersion;
        destination[1] = (byte)e.Type;
        destination[2] = (byte)e.Command;
        destination[3] = (byte)e.Status;
        destination[4] = flags;
        int at = 5;
        WriteInt64(destination, ref at, e.Sequence);
        WriteInt64(destination, ref at, e.TimestampUnixMs);
        WriteInt64(destination, ref at, (long)e.PayloadFingerprint);
        WriteInt64(destination, ref at, e.AmountMinor);
        WriteInt64(destination, ref at, e.HoldReleasedMinor);
        WriteInt64(destination, ref at, e.ExpiresAtUnixMs);
        WriteInt64(destination, ref at, e.HeldMinor);
        WriteInt64(destination, ref at, e.PostedMinor);
        WriteInt64(destination, ref at, e.AvailableMinor);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[at..], e.CurrencyCode); at += 2;
        destination[at++] = e.OvercapturePercent;
        BinaryPrimitives.WriteInt16LittleEndian(destination[at..], e.Mcc); at += 2;
        WriteString(destination, ref at, e.RequestId);
        WriteString(destination, ref at, e.AccountId);
        WriteString(destination, ref at, e.AuthorizationId);
        WriteString(destination, ref at, e.CustomerId);
        WriteString(destination, ref at, e.MerchantId);
        WriteString(destination, ref at, e.Reason);
        if (e.Controls is { } controls)
        {
            WriteInt64(destination, ref at, controls.MaxAuthorizationAmountMinor);
            BinaryPrimitives.WriteInt32LittleEndian(destination[at..], controls.VelocityMaxCount); at += 4;
            WriteInt64(destination, ref at, controls.VelocityMaxAmountMinor);
            BinaryPrimitives.WriteInt32LittleEndian(destination[at..], controls.VelocityWindowSeconds); at += 4;
            destination[at++] = (byte)controls.BlockedMccs.Length;
            foreach (int mcc in controls.BlockedMccs)
            {
                BinaryPrimitives.WriteInt16LittleEndian(destination[at..], (short)mcc); at += 2;
            }
        }
        if (e.Lifecycle is { } lifecycle) LifecycleCodec.Write(lifecycle, destination, ref at);
        if (e.Actor is not null) WriteString(destination, ref at, e.Actor);
        if (e.PreviousAmountMinor is { } previous) WriteInt64(destination, ref at, previous);
        return at;
    }

    /// <summary>Reads one event from the start of <paramref name="source"/>; returns the bytes consumed.
    /// Throws <see cref="FormatException"/> for an unknown version or a truncated event.</summary>
    public static int Decode(ReadOnlySpan<byte> source, out LedgerEvent e)
    {
        if (source.Length < 5) throw new FormatException("event is truncated");
        if (source[0] != FormatVersion) throw new FormatException($"event format version {source[0]} is not supported (expected {FormatVersion})");
        e = default;
        e.Type = (EventType)source[1];
        e.Command = (CommandType)source[2];
        e.Status = (Status)source[3];
        byte flags = source[4];
        e.AuthorizationClosed = (flags & FlagAuthorizationClosed) != 0;
        e.Final = (flags & FlagFinal) != 0;
        int at = 5;
        try
        {
            e.Sequence = ReadInt64(source, ref at);
            e.TimestampUnixMs = ReadInt64(source, ref at);
            e.PayloadFingerprint = (ulong)ReadInt64(source, ref at);
            e.AmountMinor = ReadInt64(source, ref at);
            e.HoldReleasedMinor = ReadInt64(source, ref at);
            e.ExpiresAtUnixMs = ReadInt64(source, ref at);
            e.HeldMinor = ReadInt64(source, ref at);
            e.PostedMinor = ReadInt64(source, ref at);
            e.AvailableMinor = ReadInt64(source, ref at);
            e.CurrencyCode = BinaryPrimitives.ReadUInt16LittleEndian(source[at..]); at += 2;
            e.OvercapturePercent = source[at++];
            e.Mcc = BinaryPrimitives.ReadInt16LittleEndian(source[at..]); at += 2;
            e.RequestId = ReadString(source, ref at) ?? "";
            e.AccountId = ReadString(source, ref at) ?? "";
            e.AuthorizationId = ReadString(source, ref at);
            e.CustomerId = ReadString(source, ref at);
            e.MerchantId = ReadString(source, ref at);
            e.Reason = ReadString(source, ref at);
            if ((flags & FlagHasControls) != 0)
            {
                long maxAuthorization = ReadInt64(source, ref at);
                int velocityCount = BinaryPrimitives.ReadInt32LittleEndian(source[at..]); at += 4;
                long velocityAmount = ReadInt64(source, ref at);
                int windowSeconds = BinaryPrimitives.ReadInt32LittleEndian(source[at..]); at += 4;
                int mccCount = source[at++];
                var mccs = new int[mccCount];
                for (int i = 0; i < mccCount; i++)
                {
                    mccs[i] = BinaryPrimitives.ReadInt16LittleEndian(source[at..]); at += 2;
                }
                e.Controls = new SpendingControls
                {
                    MaxAuthorizationAmountMinor = maxAuthorization,
                    VelocityMaxCount = velocityCount,
                    VelocityMaxAmountMinor = velocityAmount,
                    VelocityWindowSeconds = windowSeconds,
                    BlockedMccs = mccs,
                };
            }
            if ((flags & FlagHasLifecycle) != 0) e.Lifecycle = LifecycleCodec.Read(source, ref at);
            if ((flags & FlagHasActor) != 0) e.Actor = ReadString(source, ref at);
            if ((flags & FlagHasPreviousAmount) != 0) e.PreviousAmountMinor = ReadInt64(source, ref at);
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or IndexOutOfRangeException or ArgumentException)
        {
            throw new FormatException("event is truncated");
        }
        // The format carries ids, not keys: hash each once here, on the reader's thread, so applying hashes nothing.
        Fingerprints.StampKeys(ref e);
        return at;
    }

    private static void WriteInt64(Span<byte> destination, ref int at, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination[at..], value);
        at += 8;
    }

    private static long ReadInt64(ReadOnlySpan<byte> source, ref int at)
    {
        long value = BinaryPrimitives.ReadInt64LittleEndian(source[at..]);
        at += 8;
        return value;
    }

    private static void WriteString(Span<byte> destination, ref int at, string? value)
    {
        if (value is null)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[at..], AbsentString);
            at += 2;
            return;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(destination[at..], (ushort)value.Length);
        at += 2;
        // Validated input is ASCII, so one byte per character.
        at += Encoding.ASCII.GetBytes(value, destination[at..]);
    }

    private static string? ReadString(ReadOnlySpan<byte> source, ref int at)
    {
        ushort length = BinaryPrimitives.ReadUInt16LittleEndian(source[at..]);
        at += 2;
        if (length == AbsentString) return null;
        if (length == 0) return "";
        string value = Encoding.ASCII.GetString(source.Slice(at, length));
        at += length;
        return value;
    }
}
