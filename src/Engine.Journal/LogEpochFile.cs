using System.Buffers.Binary;

namespace Engine.Journal;

/// <summary>
/// A log epoch kept in its own small file, for a process that follows another's log rather than owning one (a read
/// replica records the epoch of the upstream log it copies). Layout: epoch i64, CRC-32C u32 over it, little-endian.
/// Written to a temporary name, fsync'd, renamed into place, directory fsync'd: a crash leaves the old or the new value.
/// </summary>
public static class LogEpochFile
{
    private const int FileBytes = 8 + 4;

    /// <summary>The recorded epoch, or null when the file does not exist.</summary>
    /// <exception cref="InvalidDataException">The file exists but does not verify.</exception>
    public static long? Read(string path)
    {
        if (!File.Exists(path)) return null;
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length != FileBytes || Crc32C.Compute(bytes.AsSpan(0, 8)) != BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)))
            throw new InvalidDataException($"log epoch file '{path}' is damaged ({bytes.Length} bytes, checksum does not verify)");
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    /// <summary>Records <paramref name="epoch"/> durably (replacing any earlier value).</summary>
    public static void Write(string path, long epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        string full = Path.GetFullPath(path);
        var bytes = new byte[FileBytes];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, epoch);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), Crc32C.Compute(bytes.AsSpan(0, 8)));
        string temporary = full + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, full, overwrite: true);
        DurableFile.FlushDirectory(Path.GetDirectoryName(full)!);
    }
}
