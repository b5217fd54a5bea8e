using System.Buffers.Binary;
using FASTER.core;
using Microsoft.Win32.SafeHandles;

namespace Engine.Journal;

/// <summary>
/// FASTER's commit metadata, kept in one preallocated file of two checksummed slots written alternately
/// (<c>journal.commit</c>), each write followed by fdatasync. Replaces FASTER's default
/// <c>DeviceLogCommitCheckpointManager</c>, which creates a new file per commit and deletes the old one without
/// ever fsyncing the directory, and whose read errors <c>FasterLog</c> recovery swallows.
/// </summary>
/// <remarks>
/// <para>Why two slots: a crash in the middle of writing a slot tears at most that slot; the other still holds the
/// previous commit, which is then the last durable one (the torn commit was never acknowledged, because
/// <see cref="Commit"/> returns only after fdatasync). New writes always go to the slot that does not hold the
/// newest valid commit.</para>
/// <para>Slot layout (little-endian), <see cref="SlotBytes"/> bytes each:
/// magic u32 "JCMT", version u16 (2), reserved u16, commitNum i64, beginAddress i64, untilAddress i64, logEpoch i64,
/// metadataLength i32, FASTER metadata bytes, crc32c u32 over everything before it. An all-zero slot is empty.
/// Version 1 slots (no logEpoch field; written before log epochs existed) are read as epoch 0.</para>
/// <para>The log epoch counts the cuts of damaged committed records (<see cref="EventJournal.CutTail"/>): every slot
/// carries it forward, and the cut's own slot, fdatasync'd before any append can reuse the cut addresses, raises it.</para>
/// <para>Also makes segment files durable by name: before a commit that reaches into a segment the directory has
/// not been fsync'd for, it fsyncs the directory (FASTER creates segment files without doing so).</para>
/// </remarks>
internal sealed class CommitMetadataFile : ILogCommitManager
{
    public const string FileName = "journal.commit";
    public const int SlotBytes = 4096;
    public const int SlotCount = 2;
    private const uint SlotMagic = 0x544D434Au; // "JCMT"
    private const ushort SlotVersion = 2;
    private const ushort SlotVersionWithoutEpoch = 1;
    private const int SlotHeaderBytes = 4 + 2 + 2 + 8 + 8 + 8 + 8 + 4;
    private const int SlotHeaderBytesWithoutEpoch = 4 + 2 + 2 + 8 + 8 + 8 + 4;
    private const int SlotMetadataBytesMax = SlotBytes - SlotHeaderBytes - sizeof(uint);

    private readonly string _directoryPath;
    private readonly int _segmentSizeBits;
    private readonly SafeFileHandle _handle;
    private readonly ILogger _logger;
    private readonly object _writeLock = new();
    private readonly byte[] _slotBuffer = new byte[SlotBytes];

    private CommitSlot? _newest;
    private int _newestSlotIndex;
    private long _directorySyncedSegment;

    // Written under _writeLock after the slot is durable; read by any thread (readers, committers) without the
    // lock, so Volatile pairs the write of the address with the durable state it publishes.
    private long _durableUntilAddress;

    // Same publication rule as _durableUntilAddress; waiters (EventJournal.TruncateBefore) block on _writeLock's
    // monitor, pulsed after every slot write and on failure.
    private long _durableBeginAddress;

    // The newest durable commit's log epoch; same publication rule as _durableUntilAddress.
    private long _logEpoch;

    // The first failure to make a commit durable. After it no commit is ever reported durable again: after a
    // failed fsync the kernel may have dropped the dirty pages, so retrying could report lost data as saved.
    private volatile Exception? _fault;

    private CommitMetadataFile(string directoryPath, int segmentSizeBits, SafeFileHandle handle, ILogger logger)
    {
        _directoryPath = directoryPath;
        _segmentSizeBits = segmentSizeBits;
        _handle = handle;
        _logger = logger;
    }

    /// <summary>The newest commit whose slot verifies.</summary>
    public CommitSlot Newest => _newest ?? throw new InvalidOperationException("the commit file is not loaded");

    /// <summary>Everything before this address is durable (data and metadata fsync'd).</summary>
    public long DurableUntilAddress => Volatile.Read(ref _durableUntilAddress);

    /// <summary>The begin address of the newest durable commit: the log's start as a restart would see it.</summary>
    public long DurableBeginAddress => Volatile.Read(ref _durableBeginAddress);

    /// <summary>The log epoch of the newest durable commit: how many times a damaged committed tail was cut.</summary>
    public long LogEpoch => Volatile.Read(ref _logEpoch);

    /// <summary>Test seam: called before each commit slot is written and fdatasync'd; may throw to inject a failure.</summary>
    public IStorageFaultInjector? FaultInjector { get; set; }

    /// <summary>The failure that stopped commits, if any.</summary>
    public Exception? Fault => _fault;

    /// <summary>True when the commit file exists in <paramref name="directoryPath"/>.</summary>
    public static bool Exists(string directoryPath) => File.Exists(Path.Combine(directoryPath, FileName));

    /// <summary>
    /// Creates the commit file holding one commit, number 0, of the empty log (<paramref name="emptyLog"/>), so
    /// that from the start one slot always verifies: a later damaged slot next to an empty one can then never be
    /// mistaken for a fresh log. Written to a temporary name, fsync'd, renamed into place, directory fsync'd.
    /// </summary>
    public static void Create(string directoryPath, CommitSlot emptyLog)
    {
        string path = Path.Combine(directoryPath, FileName);
        string temporaryPath = path + ".tmp";
        var contents = new byte[SlotBytes * SlotCount];
        EncodeSlot(contents.AsSpan((SlotCount - 1) * SlotBytes, SlotBytes), emptyLog);
        using (SafeFileHandle handle = File.OpenHandle(temporaryPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            RandomAccess.Write(handle, contents, 0);
            RandomAccess.FlushToDisk(handle);
        }
        File.Move(temporaryPath, path, overwrite: false);
        DurableFile.FlushDirectory(directoryPath);
    }

    /// <summary>
    /// Opens the commit file and finds the newest valid slot. A slot that is neither empty nor valid is reported
    /// through <paramref name="log"/>: it is the torn write of a commit that never completed. Throws
    /// <see cref="JournalRecoveryException"/> when no slot is valid but some slot is damaged: then nothing says how
    /// much of the log was committed.
    /// </summary>
    public static CommitMetadataFile Open(string directoryPath, int segmentSizeBits, ILogger logger)
    {
        string path = Path.Combine(directoryPath, FileName);
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            long length = RandomAccess.GetLength(handle);
            if (length != SlotBytes * SlotCount)
                throw new JournalRecoveryException($"journal commit file '{path}' is {length} bytes, expected {SlotBytes * SlotCount}: it is damaged; start-up is stopped rather than guess how much of the log is durable.");

            var file = new CommitMetadataFile(directoryPath, segmentSizeBits, handle, logger);
            file.LoadSlots(path);
            return file;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private void LoadSlots(string path)
    {
        var buffer = new byte[SlotBytes];
        int damaged = 0;
        for (int index = 0; index < SlotCount; index++)
        {
            int read = RandomAccess.Read(_handle, buffer, (long)index * SlotBytes);
            CommitSlot slot = default;
            string? reason = "short read";
            SlotState state = read == SlotBytes ? DecodeSlot(buffer, out slot, out reason) : SlotState.Damaged;
            if (state == SlotState.Valid)
            {
                if (_newest is null || slot.CommitNum > _newest.Value.CommitNum)
                {
                    _newest = slot;
                    _newestSlotIndex = index;
                }
            }
            else if (state == SlotState.Damaged)
            {
                damaged++;
                _logger.LogWarning("journal: commit slot {Slot} of '{Path}' is damaged ({Reason}); it is the torn write of a commit " +
                    "that never completed and is ignored.",
                    index, path, reason);
            }
        }

        // The file is created holding a valid commit 0, and every write goes to the slot not holding the newest
        // valid commit, so a file without any valid slot was damaged after the fact.
        if (_newest is not { } newest)
            throw new JournalRecoveryException($"journal commit file '{path}': no commit slot verifies ({damaged} damaged). Nothing says how much of the log is durable, so start-up is stopped to avoid serving wrong balances.");

        _durableUntilAddress = newest.UntilAddress;
        _durableBeginAddress = newest.BeginAddress;
        _logEpoch = newest.LogEpoch;
        // Unknown which segment names a previous process made durable (an empty log has none yet): the first
        // commit of this process fsyncs the directory whatever segment it reaches.
        _directorySyncedSegment = -1;
    }

    /// <summary>FASTER calls this after the log data up to <paramref name="untilAddress"/> is written (O_SYNC).</summary>
    public void Commit(long beginAddress, long untilAddress, byte[] commitMetadata, long commitNum, bool forceWriteMetadata)
    {
        // FASTER's serial commit worker calls this. An exception escaping here would stall FASTER's commit queue
        // and hang every waiter, so failures are recorded in _fault and surfaced by EventJournal to its callers.
        if (_fault is not null) return;
        try
        {
            // A commit FASTER starts keeps the epoch; only a cut (WriteRewind) raises it.
            WriteSlot(new CommitSlot(commitNum, beginAddress, untilAddress, commitMetadata, LogEpoch), allowRewind: false);
        }
        catch (Exception e)
        {
            _fault = e;
            _logger.LogError("journal: FAILED to make commit {CommitNum} (until address {UntilAddress}) durable: {Error}. The " +
                "journal stops accepting commits.",
                commitNum, untilAddress, e.Message);
            lock (_writeLock) Monitor.PulseAll(_writeLock); // wake WaitForDurableBegin so it reports the failure
        }
    }

    /// <summary>
    /// Blocks until a durable commit's begin address is at least <paramref name="beginAddress"/> (someone else must
    /// start that commit). Bounded by <paramref name="timeout"/>.
    /// </summary>
    /// <exception cref="IOException">A commit failed; the begin may never become durable.</exception>
    /// <exception cref="TimeoutException">No such commit within <paramref name="timeout"/>.</exception>
    public void WaitForDurableBegin(long beginAddress, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_writeLock)
        {
            // Bounded by the deadline: each pass waits at most the time left.
            while (_durableBeginAddress < beginAddress)
            {
                if (_fault is { } fault)
                    throw new IOException($"the commit that should make journal begin address {beginAddress} durable failed", fault);
                long left = deadline - Environment.TickCount64;
                if (left <= 0)
                    throw new TimeoutException($"no durable commit with begin address >= {beginAddress} within {timeout.TotalMilliseconds:F0} ms (durable begin is {_durableBeginAddress})");
                Monitor.Wait(_writeLock, (int)Math.Min(left, int.MaxValue));
            }
        }
    }

    /// <summary>
    /// Writes a commit that moves the durable end of the log back to <paramref name="slot"/>'s until address
    /// (cutting a torn tail). Only for <see cref="EventJournal.CutTail"/> while FASTER is closed.
    /// </summary>
    public void WriteRewind(CommitSlot slot)
    {
        if (_fault is { } fault) throw new IOException("the journal commit file has failed before", fault);
        WriteSlot(slot, allowRewind: true);
    }

    private void WriteSlot(CommitSlot slot, bool allowRewind)
    {
        lock (_writeLock)
        {
            if (_newest is { } newest)
            {
                if (slot.CommitNum <= newest.CommitNum)
                    throw new InvalidOperationException($"commit number {slot.CommitNum} is not after the newest durable commit {newest.CommitNum}");
                if (slot.LogEpoch < newest.LogEpoch || (!allowRewind && slot.LogEpoch != newest.LogEpoch))
                    throw new InvalidOperationException($"commit {slot.CommitNum} has log epoch {slot.LogEpoch}; the newest durable commit has {newest.LogEpoch} (only a cut raises it)");
                if (!allowRewind && slot.UntilAddress < newest.UntilAddress)
                    throw new InvalidOperationException($"commit {slot.CommitNum} ends at {slot.UntilAddress}, before the durable end {newest.UntilAddress}");
                // Segment files below a durable begin may already be deleted: a begin moving back would point at them.
                if (slot.BeginAddress < newest.BeginAddress)
                    throw new InvalidOperationException($"commit {slot.CommitNum} begins at {slot.BeginAddress}, before the durable begin {newest.BeginAddress}");
            }
            if (slot.Metadata.Length > SlotMetadataBytesMax)
                throw new InvalidOperationException($"FASTER commit metadata is {slot.Metadata.Length} bytes; a commit slot holds at most {SlotMetadataBytesMax}");

            // A new segment file's name must be durable before a commit that covers its data is.
            long lastSegment = SegmentOf(slot.UntilAddress - 1);
            if (lastSegment > _directorySyncedSegment)
            {
                DurableFile.FlushDirectory(_directoryPath);
                _directorySyncedSegment = lastSegment;
            }

            FaultInjector?.BeforeCommitDurable(slot.UntilAddress);
            int slotIndex = (_newestSlotIndex + 1) % SlotCount;
            EncodeSlot(_slotBuffer, slot);
            RandomAccess.Write(_handle, _slotBuffer, (long)slotIndex * SlotBytes);
            DurableFile.FlushData(_handle);

            _newest = slot;
            _newestSlotIndex = slotIndex;
            Volatile.Write(ref _durableUntilAddress, slot.UntilAddress);
            Volatile.Write(ref _durableBeginAddress, slot.BeginAddress);
            Volatile.Write(ref _logEpoch, slot.LogEpoch);
            Monitor.PulseAll(_writeLock);
        }
    }

    private long SegmentOf(long address) => address <= 0 ? -1 : address >> _segmentSizeBits;

    private static void EncodeSlot(Span<byte> buffer, CommitSlot slot)
    {
        buffer.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, SlotMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[4..], SlotVersion);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[8..], slot.CommitNum);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[16..], slot.BeginAddress);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[24..], slot.UntilAddress);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[32..], slot.LogEpoch);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[40..], slot.Metadata.Length);
        slot.Metadata.CopyTo(buffer[SlotHeaderBytes..]);
        int crcOffset = SlotHeaderBytes + slot.Metadata.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[crcOffset..], Crc32C.Compute(buffer[..crcOffset]));
    }

    private enum SlotState { Empty, Valid, Damaged }

    private static SlotState DecodeSlot(ReadOnlySpan<byte> buffer, out CommitSlot slot, out string? reason)
    {
        slot = default;
        reason = null;
        if (!buffer.ContainsAnyExcept((byte)0))
            return SlotState.Empty;

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(buffer[4..]);
        if (magic != SlotMagic) { reason = $"magic 0x{magic:X8}"; return SlotState.Damaged; }
        if (version != SlotVersion && version != SlotVersionWithoutEpoch) { reason = $"version {version}"; return SlotState.Damaged; }
        bool hasEpoch = version == SlotVersion;
        int headerBytes = hasEpoch ? SlotHeaderBytes : SlotHeaderBytesWithoutEpoch;
        int metadataLength = BinaryPrimitives.ReadInt32LittleEndian(buffer[(headerBytes - 4)..]);
        if (metadataLength < 0 || metadataLength > SlotBytes - headerBytes - sizeof(uint)) { reason = $"metadata length {metadataLength}"; return SlotState.Damaged; }
        int crcOffset = headerBytes + metadataLength;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(buffer[crcOffset..]);
        uint actual = Crc32C.Compute(buffer[..crcOffset]);
        if (stored != actual) { reason = $"checksum 0x{actual:X8} != stored 0x{stored:X8}"; return SlotState.Damaged; }

        slot = new CommitSlot(
            CommitNum: BinaryPrimitives.ReadInt64LittleEndian(buffer[8..]),
            BeginAddress: BinaryPrimitives.ReadInt64LittleEndian(buffer[16..]),
            UntilAddress: BinaryPrimitives.ReadInt64LittleEndian(buffer[24..]),
            Metadata: buffer.Slice(headerBytes, metadataLength).ToArray(),
            LogEpoch: hasEpoch ? BinaryPrimitives.ReadInt64LittleEndian(buffer[32..]) : 0);
        if (slot.BeginAddress < 0 || slot.UntilAddress < slot.BeginAddress || slot.LogEpoch < 0)
        {
            reason = $"addresses begin {slot.BeginAddress} until {slot.UntilAddress}";
            return SlotState.Damaged;
        }
        return SlotState.Valid;
    }

    // ---- ILogCommitManager: what FASTER's recovery asks ----

    public byte[] GetCommitMetadata(long commitNum)
    {
        if (_newest is { } newest && newest.CommitNum == commitNum)
            return (byte[])newest.Metadata.Clone();
        throw new JournalRecoveryException($"journal commit {commitNum} is not in the commit file");
    }

    public IEnumerable<long> ListCommits()
    {
        // Only the newest: recovering to an older commit than the newest durable one would silently drop
        // acknowledged records, so it is never offered to FASTER.
        if (_newest is { } newest) yield return newest.CommitNum;
    }

    public void RemoveCommit(long commitNum) =>
        throw new NotSupportedException("the journal never removes commits");

    public void RemoveAllCommits() =>
        throw new NotSupportedException("the journal never removes commits");

    public void OnRecovery(long commitNum)
    {
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>One durable commit: FASTER's metadata plus the addresses it covers, for verification, and the log epoch.</summary>
internal readonly record struct CommitSlot(long CommitNum, long BeginAddress, long UntilAddress, byte[] Metadata, long LogEpoch);
