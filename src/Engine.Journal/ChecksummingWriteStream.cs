namespace Engine.Journal;

/// <summary>
/// A write-only pass-through stream that folds every byte into a CRC-32C and counts them, so a snapshot body of any
/// size is checksummed while it streams to disk and never buffered whole.
/// </summary>
internal sealed class ChecksummingWriteStream : Stream
{
    private readonly Stream _inner;
    private uint _crcState = Crc32C.InitialState;
    private long _length;

    public ChecksummingWriteStream(Stream inner) => _inner = inner;

    public uint Crc => Crc32C.Finish(_crcState);

    public long BytesWritten => _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _crcState = Crc32C.Update(_crcState, buffer);
        _length += buffer.Length;
        _inner.Write(buffer);
    }

    public override void WriteByte(byte value) => Write([value]);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _crcState = Crc32C.Update(_crcState, buffer.Span);
        _length += buffer.Length;
        await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => _inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
