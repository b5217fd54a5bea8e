using System.Buffers;
using System.Text;
using Engine.Domain;
using Google.Protobuf;
using Grpc.Core;
using DomainCommand = Engine.Domain.Command;
using ProtoCommand = Credit.V1.Command;

namespace Engine.Server.Grpc;

/// <summary>
/// A decoded <c>credit.v1.ExecuteRequest</c>: the batch's domain commands, parsed straight from the request bytes (no
/// per-command protobuf objects), and the first malformed command's error, if any. The command array is pooled:
/// <see cref="Return"/> gives it back once the engine answered.
/// </summary>
public sealed class ExecuteBatch
{
    public ulong BatchId;
    public DomainCommand[] Commands = [];
    public int Count;
    /// <summary>The first malformed command's error, its field named <c>commands[i].&lt;kind&gt;.&lt;field&gt;</c> as <see cref="CommandMapping.ToDomain(ProtoCommand, int)"/> names it.</summary>
    public ValidationError? Error;

    public ReadOnlyMemory<DomainCommand> Memory => Commands.AsMemory(0, Count);

    public void Return()
    {
        if (Commands.Length == 0) return;
        Array.Clear(Commands, 0, Count);
        ArrayPool<DomainCommand>.Shared.Return(Commands);
        Commands = [];
        Count = 0;
    }
}

/// <summary>The replies to one batch, serialized as <c>credit.v1.ExecuteResponse</c> straight from the engine's reply array.</summary>
public sealed record ExecuteReplies(ulong BatchId, DomainCommand[] Commands, Reply[] Replies, int Count);

/// <summary>
/// The wire format of <c>PipelineService.Execute</c> without generated message objects on the server: a reader that
/// decodes an ExecuteRequest into domain commands and a writer that encodes ExecuteResponse from <see cref="Reply"/>s,
/// byte for byte what the generated types produce. Authorize — the hot command — is decoded field by field; every
/// other command kind (including kinds added to the oneof later) goes through the generated parser and
/// <see cref="CommandMapping"/>, so the two paths validate and name errors identically.
/// </summary>
public static class ExecuteWire
{
    public static readonly Marshaller<ExecuteBatch> RequestMarshaller = Marshallers.Create(
        (ExecuteBatch _, SerializationContext _) => throw new NotSupportedException("the server only reads Execute requests"),
        Deserialize);

    public static readonly Marshaller<ExecuteReplies> ResponseMarshaller = Marshallers.Create<ExecuteReplies>(Serialize,
        _ => throw new NotSupportedException("the server only writes Execute responses"));

    private const int WireVarint = 0, WireFixed64 = 1, WireLength = 2, WireFixed32 = 5;

    // ---- Reading ----

    public static ExecuteBatch Deserialize(DeserializationContext context)
    {
        ReadOnlySequence<byte> payload = context.PayloadAsReadOnlySequence();
        if (payload.IsSingleSegment) return Parse(payload.FirstSpan);
        byte[] rented = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        try
        {
            payload.CopyTo(rented);
            return Parse(rented.AsSpan(0, (int)payload.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Decodes an ExecuteRequest; malformed protobuf throws <see cref="InvalidDataException"/> (the generated parser would throw its InvalidProtocolBufferException).</summary>
    public static ExecuteBatch Parse(ReadOnlySpan<byte> bytes)
    {
        var batch = new ExecuteBatch();
        var reader = new Reader(bytes);
        try
        {
            while (!reader.End)
            {
                (int field, int wire) = reader.Tag();
                if (field == 1 && wire == WireVarint) batch.BatchId = reader.Varint();
                else if (field == 2 && wire == WireLength) Add(batch, reader.Bytes());
                else reader.Skip(wire);
            }
        }
        catch
        {
            batch.Return();
            throw;
        }
        return batch;
    }

    private static void Add(ExecuteBatch batch, ReadOnlySpan<byte> command)
    {
        if (batch.Count == batch.Commands.Length)
        {
            DomainCommand[] grown = ArrayPool<DomainCommand>.Shared.Rent(Math.Max(64, batch.Count * 2));
            Array.Copy(batch.Commands, grown, batch.Count);
            if (batch.Commands.Length > 0)
            {
                Array.Clear(batch.Commands, 0, batch.Count);
                ArrayPool<DomainCommand>.Shared.Return(batch.Commands);
            }
            batch.Commands = grown;
        }
        int index = batch.Count++;
        if (batch.Error is not null)
        {
            // After the first bad command only the count matters (the batch is refused); still check it is protobuf.
            _ = ProtoCommand.Parser.ParseFrom(command);
            return;
        }
        try
        {
            batch.Commands[index] = ParseCommand(command, index);
        }
        catch (InvalidCommandException e)
        {
            batch.Error = e.Error;
        }
    }

    private static DomainCommand ParseCommand(ReadOnlySpan<byte> command, int index)
    {
        // The fast path takes a Command holding exactly one field, an authorize; anything else (other kinds, repeated or
        // merged oneof fields, unknown fields) is the generated parser's, whose semantics are then exact by construction.
        var reader = new Reader(command);
        if (!reader.End)
        {
            (int field, int wire) = reader.Tag();
            if (field == 1 && wire == WireLength)
            {
                ReadOnlySpan<byte> authorize = reader.Bytes();
                if (reader.End) return ParseAuthorize(authorize, index);
            }
        }
        return CommandMapping.ToDomain(ProtoCommand.Parser.ParseFrom(command), index);
    }

    private static DomainCommand ParseAuthorize(ReadOnlySpan<byte> bytes, int index)
    {
        string requestId = "", accountId = "", currency = "", merchantId = "";
        long amount = 0;
        bool hasMcc = false;
        int mcc = 0, expiresInSeconds = 0;
        var reader = new Reader(bytes);
        while (!reader.End)
        {
            (int field, int wire) = reader.Tag();
            switch (field)
            {
                case 1 when wire == WireLength: requestId = reader.String(); break;
                case 2 when wire == WireLength: accountId = reader.String(); break;
                case 3 when wire == WireVarint: amount = (long)reader.Varint(); break;
                case 4 when wire == WireLength: currency = reader.String(); break;
                case 5 when wire == WireLength: merchantId = reader.String(); break;
                case 6 when wire == WireVarint: mcc = (int)reader.Varint(); hasMcc = true; break;
                case 7 when wire == WireVarint: expiresInSeconds = (int)reader.Varint(); break;
                default: reader.Skip(wire); break;
            }
        }
        try
        {
            // As CommandMapping.ToDomain(AuthorizeRequest): an explicitly negative or too large mcc, then the validator.
            int domainMcc = -1;
            if (hasMcc)
            {
                if (mcc is < 0 or > CommandValidator.MccMax)
                    throw new InvalidCommandException(new ValidationError("mcc", $"must be 0..{CommandValidator.MccMax} when present"));
                domainMcc = mcc;
            }
            DomainCommand command = DomainCommand.Authorize(requestId, accountId, amount, currency, merchantId.Length == 0 ? null : merchantId, domainMcc, expiresInSeconds);
            if (CommandValidator.Validate(command) is { } error) throw new InvalidCommandException(error);
            return command;
        }
        catch (InvalidCommandException e)
        {
            throw new InvalidCommandException(e.Error with { Field = $"commands[{index}].authorize.{e.Error.Field}" });
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _position;

        public readonly bool End => _position >= _bytes.Length;

        public (int Field, int Wire) Tag()
        {
            ulong tag = Varint();
            int field = (int)(tag >> 3);
            if (field == 0 || tag > uint.MaxValue) throw new InvalidDataException("Execute request: invalid tag");
            return (field, (int)(tag & 7));
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (int shift = 0; shift < 70; shift += 7)
            {
                if (_position >= _bytes.Length) throw new InvalidDataException("Execute request: truncated varint");
                byte b = _bytes[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return value;
            }
            throw new InvalidDataException("Execute request: malformed varint");
        }

        public ReadOnlySpan<byte> Bytes()
        {
            ulong length = Varint();
            if (length > (ulong)(_bytes.Length - _position)) throw new InvalidDataException("Execute request: truncated field");
            ReadOnlySpan<byte> slice = _bytes.Slice(_position, (int)length);
            _position += (int)length;
            return slice;
        }

        public string String()
        {
            ReadOnlySpan<byte> utf8 = Bytes();
            if (utf8.Length == 3 && utf8.SequenceEqual("USD"u8)) return "USD";
            return utf8.Length == 0 ? "" : Encoding.UTF8.GetString(utf8);
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case WireVarint: Varint(); break;
                case WireFixed64: Advance(8); break;
                case WireLength: Bytes(); break;
                case WireFixed32: Advance(4); break;
                default: throw new InvalidDataException($"Execute request: unsupported wire type {wire}");
            }
        }

        private void Advance(int count)
        {
            if (_bytes.Length - _position < count) throw new InvalidDataException("Execute request: truncated field");
            _position += count;
        }
    }

    // ---- Writing ----

    public static void Serialize(ExecuteReplies replies, SerializationContext context)
    {
        int length = Size(replies);
        context.SetPayloadLength(length);
        IBufferWriter<byte> writer = context.GetBufferWriter();
        Span<byte> span = writer.GetSpan(length);
        int written = Write(replies, span);
        if (written != length) throw new InvalidOperationException($"ExecuteResponse size {length} but wrote {written}");
        writer.Advance(length);
        context.Complete();
    }

    /// <summary>The encoded ExecuteResponse, for tests and callers without a serialization context.</summary>
    public static byte[] ToBytes(ExecuteReplies replies)
    {
        var bytes = new byte[Size(replies)];
        Write(replies, bytes);
        return bytes;
    }

    public static int Size(ExecuteReplies replies)
    {
        int size = replies.BatchId == 0 ? 0 : 1 + VarintSize(replies.BatchId);
        for (int i = 0; i < replies.Count; i++)
        {
            int reply = ReplySize(replies.Commands[i], replies.Replies[i]);
            size += 1 + VarintSize((ulong)reply) + reply;
        }
        return size;
    }

    private static int Write(ExecuteReplies replies, Span<byte> span)
    {
        int p = 0;
        if (replies.BatchId != 0)
        {
            span[p++] = 1 << 3 | WireVarint;
            p += WriteVarint(span[p..], replies.BatchId);
        }
        for (int i = 0; i < replies.Count; i++)
        {
            ref readonly DomainCommand command = ref replies.Commands[i];
            ref readonly Reply reply = ref replies.Replies[i];
            span[p++] = 2 << 3 | WireLength;
            p += WriteVarint(span[p..], (ulong)ReplySize(command, reply));
            p += WriteReply(command, reply, span[p..]);
        }
        return p;
    }

    private static string? AuthorizationId(in DomainCommand command, in Reply reply) =>
        command.Type == CommandType.Authorize && reply.Approved && !string.IsNullOrEmpty(command.RequestId) ? command.RequestId : null;

    private static int ReplySize(in DomainCommand command, in Reply reply)
    {
        int size = 0;
        if (reply.Approved) size += 2;
        long status = (long)EnumMapping.ToProto(reply.Status);
        if (status != 0) size += 1 + VarintSize((ulong)status);
        string code = reply.ResponseCode;
        if (code.Length > 0) size += StringSize(code);
        if (reply.AvailableMinor != 0) size += 1 + VarintSize((ulong)reply.AvailableMinor);
        if (reply.HeldMinor != 0) size += 1 + VarintSize((ulong)reply.HeldMinor);
        if (reply.PostedMinor != 0) size += 1 + VarintSize((ulong)reply.PostedMinor);
        if (reply.Sequence != 0) size += 1 + VarintSize((ulong)reply.Sequence);
        if (reply.Replayed) size += 2;
        if (AuthorizationId(command, reply) is { } id) size += StringSize(id);
        return size;
    }

    private static int WriteReply(in DomainCommand command, in Reply reply, Span<byte> span)
    {
        int p = 0;
        if (reply.Approved) { span[p++] = 1 << 3 | WireVarint; span[p++] = 1; }
        long status = (long)EnumMapping.ToProto(reply.Status);
        if (status != 0) { span[p++] = 2 << 3 | WireVarint; p += WriteVarint(span[p..], (ulong)status); }
        string code = reply.ResponseCode;
        if (code.Length > 0) p += WriteString(span[p..], 3, code);
        p += WriteInt64(span[p..], 4, reply.AvailableMinor);
        p += WriteInt64(span[p..], 5, reply.HeldMinor);
        p += WriteInt64(span[p..], 6, reply.PostedMinor);
        p += WriteInt64(span[p..], 7, reply.Sequence);
        if (reply.Replayed) { span[p++] = 8 << 3 | WireVarint; span[p++] = 1; }
        if (AuthorizationId(command, reply) is { } id) p += WriteString(span[p..], 9, id);
        return p;
    }

    private static int WriteInt64(Span<byte> span, int field, long value)
    {
        if (value == 0) return 0;
        span[0] = (byte)(field << 3 | WireVarint);
        return 1 + WriteVarint(span[1..], (ulong)value);
    }

    private static int StringSize(string value)
    {
        int bytes = Encoding.UTF8.GetByteCount(value);
        return 1 + VarintSize((ulong)bytes) + bytes;
    }

    private static int WriteString(Span<byte> span, int field, string value)
    {
        int bytes = Encoding.UTF8.GetByteCount(value);
        span[0] = (byte)(field << 3 | WireLength);
        int p = 1 + WriteVarint(span[1..], (ulong)bytes);
        return p + Encoding.UTF8.GetBytes(value, span[p..]);
    }

    private static int VarintSize(ulong value)
    {
        int size = 1;
        while (value >= 0x80) { value >>= 7; size++; }
        return size;
    }

    private static int WriteVarint(Span<byte> span, ulong value)
    {
        int p = 0;
        while (value >= 0x80)
        {
            span[p++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[p++] = (byte)value;
        return p;
    }
}
