using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;

namespace Engine.Journal;

/// <summary>
/// Whole-state snapshot files, each written atomically: temp file, fsync, rename into place, directory fsync.
/// </summary>
/// <remarks>
/// <para>File name: <c>snapshot-{sequence:D20}.snap</c>, so names sort by sequence. Layout: a 64-byte header
/// (little-endian: magic u32 "SNAP", version u16, reserved u16, sequence i64, journalAddress i64, bodyLength i64,
/// bodyCrc32c u32, zero padding, headerCrc32c u32 at offset 60 over bytes [0, 60)), then the body.</para>
/// <para>A crash mid-write leaves only a <c>.tmp</c> file, which readers ignore and the constructor deletes.
/// One writer per directory.</para>
/// <para>Readers on other threads (<see cref="TryOpenNewestValid"/>, <see cref="TryGetOldestJournalAddress"/>) are
/// safe while the writer adds and deletes snapshots: a snapshot file never changes once renamed into place, readers
/// open it with <see cref="FileShare.Delete"/>, and on Linux an open file stays readable after it is unlinked, so the
/// writer's pruning never breaks a body that is being streamed.</para>
/// </remarks>
public sealed class SnapshotStore
{
    public const string FilePrefix = "snapshot-";
    public const string FileExtension = ".snap";
    public const string TemporarySuffix = ".tmp";
    public const int HeaderBytes = 64;

    private const uint Magic = 0x50414E53u; // "SNAP"
    private const ushort Version = 1;
    private const int HeaderCrcOffset = 60;
    private const int StreamBufferBytes = 1 << 20;
    private const int ListingPassesMax = 3;

    private readonly string _directoryPath;
    private readonly int _keep;
    private readonly ILogger _logger;

    /// <param name="directoryPath">Where snapshots live; created if absent.</param>
    /// <param name="keep">How many of the newest snapshots to keep (at least 1).</param>
    /// <param name="logger">Receives notable events (corrupt snapshot skipped, leftovers removed). Optional.</param>
    public SnapshotStore(string directoryPath, int keep = 3, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directoryPath);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        _directoryPath = Path.GetFullPath(directoryPath);
        _keep = keep;
        _logger = logger ?? NullLogger.Instance;
        DurableFile.CreateDirectoryDurably(_directoryPath);
        DeleteLeftoverTemporaryFiles();
    }

    /// <summary>Test seam (<see cref="IStorageFaultInjector"/>): called as each snapshot's temporary file is written. Null in production.</summary>
    public IStorageFaultInjector? FaultInjector { get; set; }

    /// <summary>The directory holding the snapshots.</summary>
    public string DirectoryPath => _directoryPath;

    /// <summary>
    /// Writes a snapshot whose body <paramref name="writeBody"/> streams out; it is checksummed on the way and never
    /// held in memory. Durable and visible (atomically) when this returns; then all but the newest
    /// <c>keep</c> snapshots are deleted.
    /// </summary>
    public SnapshotInfo Write(long sequence, long journalAddress, Action<Stream> writeBody)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentOutOfRangeException.ThrowIfNegative(journalAddress);
        ArgumentNullException.ThrowIfNull(writeBody);

        string finalPath = Path.Combine(_directoryPath, FileName(sequence));
        string temporaryPath = finalPath + TemporarySuffix;
        long bodyLength;
        uint bodyCrc;
        try
        {
            using (var file = new FileStream(temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None, StreamBufferBytes))
            {
                Span<byte> header = stackalloc byte[HeaderBytes];
                header.Clear();
                file.Write(header); // placeholder until the body's length and checksum are known
                FaultInjector?.BeforeSnapshotWrite(sequence);

                var body = new ChecksummingWriteStream(file);
                writeBody(body);
                body.Flush();
                bodyLength = body.BytesWritten;
                bodyCrc = body.Crc;

                EncodeHeader(header, sequence, journalAddress, bodyLength, bodyCrc);
                file.Position = 0;
                file.Write(header);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporaryPath, finalPath, overwrite: true);
            DurableFile.FlushDirectory(_directoryPath);
        }
        catch
        {
            TryDelete(temporaryPath);
            throw;
        }

        DeleteAllButNewest();
        return new SnapshotInfo(sequence, journalAddress, bodyLength, bodyCrc, finalPath);
    }

    /// <summary>
    /// Finds the newest snapshot whose header and body checksum verify (reading the whole body once to check it).
    /// A damaged newer snapshot is reported through the log callback and skipped in favour of the next older one.
    /// Safe while the writer adds and prunes snapshots (see the remarks on the class): the stream stays readable
    /// even if the file is deleted while it is open.
    /// </summary>
    /// <param name="info">The snapshot found.</param>
    /// <param name="body">Its body, positioned at the first body byte; the caller disposes it. <see cref="Stream.Null"/> when none.</param>
    /// <returns>False when no snapshot verifies (or there is none).</returns>
    public bool TryOpenNewestValid(out SnapshotInfo info, out Stream body)
    {
        // A file listed but pruned before it could be opened means a newer one exists: list again. Bounded: each
        // pass is one listing, and pruning needs a snapshot write, far slower than a listing.
        for (int pass = 0; pass < ListingPassesMax; pass++)
        {
            bool vanished = false;
            foreach ((long sequence, string path) in ListSnapshots())
            {
                FileStream file;
                try
                {
                    file = OpenForRead(path);
                }
                catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
                {
                    vanished = true;
                    break;
                }
                catch (IOException e)
                {
                    _logger.LogWarning("snapshot: '{Path}' cannot be opened ({Error}); skipping it and trying the next older snapshot.", path, e.Message);
                    continue;
                }

                try
                {
                    if (Verify(file, sequence, path, out info, out string? problem))
                    {
                        file.Position = HeaderBytes;
                        body = new BufferedStream(file, StreamBufferBytes);
                        return true;
                    }
                    _logger.LogWarning("snapshot: '{Path}' is damaged ({Problem}); skipping it and trying the next older snapshot.", path, problem);
                }
                catch (IOException e)
                {
                    _logger.LogWarning("snapshot: '{Path}' cannot be read ({Error}); skipping it and trying the next older snapshot.", path, e.Message);
                }
                file.Dispose();
            }
            if (!vanished) break;
        }
        info = default;
        body = Stream.Null;
        return false;
    }

    /// <summary>
    /// The smallest journal address among the snapshots on disk, from their headers (header checksum verified; bodies
    /// are not read): the journal must keep every record from there on for each snapshot to stay usable for recovery.
    /// </summary>
    /// <returns>False when there is no snapshot, or some snapshot's header does not verify (then nothing can be said
    /// safely about what the journal must keep).</returns>
    public bool TryGetOldestJournalAddress(out long journalAddress)
    {
        journalAddress = long.MaxValue;
        List<(long Sequence, string Path)> snapshots = ListSnapshots();
        if (snapshots.Count == 0) return false;
        Span<byte> header = stackalloc byte[HeaderBytes];
        foreach ((long sequence, string path) in snapshots)
        {
            try
            {
                using FileStream file = OpenForRead(path);
                if (!TryReadHeader(file, header, sequence, out SnapshotHeader decoded, out string? problem))
                {
                    _logger.LogWarning("snapshot: '{Path}' has a damaged header ({Problem}); the oldest journal address is unknown.", path, problem);
                    return false;
                }
                journalAddress = Math.Min(journalAddress, decoded.JournalAddress);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Pruned since the listing: it no longer needs the journal.
            }
            catch (IOException e)
            {
                _logger.LogWarning("snapshot: '{Path}' cannot be read ({Error}); the oldest journal address is unknown.", path, e.Message);
                return false;
            }
        }
        return journalAddress != long.MaxValue;
    }

    private static FileStream OpenForRead(string path) =>
        // FileShare.Delete: the writer may prune this file while it is read (Linux keeps an unlinked open file readable).
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0);

    private readonly record struct SnapshotHeader(long Sequence, long JournalAddress, long BodyLength, uint BodyCrc32C);

    /// <summary>Reads and checks the 64-byte header (magic, header checksum, version, sequence against the file name).</summary>
    private static bool TryReadHeader(FileStream file, Span<byte> header, long sequenceFromName, out SnapshotHeader decoded, out string? problem)
    {
        decoded = default;
        problem = null;
        if (file.Length < HeaderBytes || file.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false) < HeaderBytes)
        {
            problem = $"{file.Length} bytes, shorter than the {HeaderBytes}-byte header";
            return false;
        }
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        long journalAddress = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        long bodyLength = BinaryPrimitives.ReadInt64LittleEndian(header[24..]);
        uint bodyCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[32..]);
        uint headerCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[HeaderCrcOffset..]);

        if (magic != Magic) { problem = $"magic 0x{magic:X8}"; return false; }
        uint actualHeaderCrc = Crc32C.Compute(header[..HeaderCrcOffset]);
        if (actualHeaderCrc != headerCrc) { problem = $"header checksum 0x{actualHeaderCrc:X8}, stored 0x{headerCrc:X8}"; return false; }
        if (version != Version) { problem = $"format version {version}, this build reads {Version}"; return false; }
        if (sequence != sequenceFromName) { problem = $"header sequence {sequence} but the file name says {sequenceFromName}"; return false; }
        decoded = new SnapshotHeader(sequence, journalAddress, bodyLength, bodyCrc);
        return true;
    }

    private static bool Verify(FileStream file, long sequenceFromName, string path, out SnapshotInfo info, out string? problem)
    {
        info = default;
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (!TryReadHeader(file, header, sequenceFromName, out SnapshotHeader decoded, out problem)) return false;
        (long sequence, long journalAddress, long bodyLength, uint bodyCrc) = decoded;
        if (bodyLength != file.Length - HeaderBytes) { problem = $"header says {bodyLength} body bytes, the file holds {file.Length - HeaderBytes}"; return false; }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(StreamBufferBytes);
        try
        {
            uint state = Crc32C.InitialState;
            long remaining = bodyLength;
            while (remaining > 0)
            {
                int read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
                if (read == 0) { problem = "the body ends early"; return false; }
                state = Crc32C.Update(state, buffer.AsSpan(0, read));
                remaining -= read;
            }
            uint actualBodyCrc = Crc32C.Finish(state);
            if (actualBodyCrc != bodyCrc) { problem = $"body checksum 0x{actualBodyCrc:X8}, header says 0x{bodyCrc:X8}"; return false; }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        info = new SnapshotInfo(sequence, journalAddress, bodyLength, bodyCrc, path);
        return true;
    }

    private static void EncodeHeader(Span<byte> header, long sequence, long journalAddress, long bodyLength, uint bodyCrc)
    {
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], journalAddress);
        BinaryPrimitives.WriteInt64LittleEndian(header[24..], bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[32..], bodyCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[HeaderCrcOffset..], Crc32C.Compute(header[..HeaderCrcOffset]));
    }

    private static string FileName(long sequence) =>
        FilePrefix + sequence.ToString("D20", CultureInfo.InvariantCulture) + FileExtension;

    /// <summary>Snapshot files with well-formed names, newest (highest sequence) first.</summary>
    private List<(long Sequence, string Path)> ListSnapshots()
    {
        var snapshots = new List<(long, string)>();
        foreach (string path in Directory.EnumerateFiles(_directoryPath, FilePrefix + "*" + FileExtension))
        {
            string name = Path.GetFileName(path);
            if (!name.EndsWith(FileExtension, StringComparison.Ordinal)) continue; // e.g. "*.snap.tmp" on some platforms
            string digits = name[FilePrefix.Length..^FileExtension.Length];
            if (digits.Length == 20 && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long sequence))
                snapshots.Add((sequence, path));
        }
        snapshots.Sort(static (a, b) => b.Item1.CompareTo(a.Item1));
        return snapshots;
    }

    /// <summary>
    /// Deletes every snapshot of a sequence after <paramref name="sequence"/>, durably (directory fsync): before a
    /// journal is cut back to that sequence, so no snapshot of events the log no longer holds is ever loaded again.
    /// </summary>
    /// <returns>How many were deleted.</returns>
    /// <exception cref="IOException">A snapshot could not be deleted; the cut must not go ahead.</exception>
    public int DeleteNewerThan(long sequence)
    {
        int deleted = 0;
        foreach ((long snapshotSequence, string path) in ListSnapshots())
        {
            if (snapshotSequence <= sequence) continue;
            File.Delete(path);
            deleted++;
            _logger.LogWarning("snapshot: deleted '{Path}': it holds events after sequence {Sequence}, which the journal is about to cut", path, sequence);
        }
        if (deleted > 0) DurableFile.FlushDirectory(_directoryPath);
        return deleted;
    }

    private void DeleteAllButNewest()
    {
        List<(long Sequence, string Path)> snapshots = ListSnapshots();
        bool deleted = false;
        for (int index = _keep; index < snapshots.Count; index++)
            deleted |= TryDelete(snapshots[index].Path);
        if (deleted) DurableFile.FlushDirectory(_directoryPath);
    }

    private void DeleteLeftoverTemporaryFiles()
    {
        foreach (string path in Directory.EnumerateFiles(_directoryPath, FilePrefix + "*" + TemporarySuffix))
        {
            if (TryDelete(path))
                _logger.LogInformation("snapshot: removed '{Path}', left over from a snapshot write that did not finish.", path);
        }
    }

    private bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (IOException e)
        {
            _logger.LogWarning("snapshot: could not delete '{Path}': {Error}", path, e.Message);
            return false;
        }
        catch (UnauthorizedAccessException e)
        {
            _logger.LogWarning("snapshot: could not delete '{Path}': {Error}", path, e.Message);
            return false;
        }
    }
}
