using Engine.Domain;

namespace Engine.Core;

/// <summary>Settings of one engine instance. Bound from configuration section <c>Engine</c> by the server; every limit is documented in README.md.</summary>
public sealed class EngineOptions
{
    /// <summary>Where the journal (FASTER log) and snapshots live.</summary>
    public string DataDirectory { get; set; } = "data";
    /// <summary>Ring slots (a power of two). The ring is the only queue: when it is full, submissions are refused at once.</summary>
    public int RingSize { get; set; } = 1 << 16;
    /// <summary>Most commands the decide stage takes per batch; each batch becomes at most a few journal records.</summary>
    public int DecideBatchSizeMax { get; set; } = 1024;
    /// <summary>Most commands one journal commit (fsync) may cover before replies are released.</summary>
    public int CommitBatchSizeMax { get; set; } = 16384;
    /// <summary>What a journal record adds to its events (event-block header, record header and padding), at most.</summary>
    public const int RecordOverheadBytesMax = 64;
    /// <summary>Bytes of encoded events per journal record (FasterLog entry).</summary>
    public int JournalRecordBytesMax { get; set; } = 512 * 1024;
    /// <summary>How often engine time advances on its own to expire holds (SPEC: within one second).</summary>
    public int TickIntervalMs { get; set; } = 100;
    /// <summary>Take a snapshot after this many events since the last one (0 = never by count).</summary>
    public long SnapshotEveryEvents { get; set; } = 20_000_000;
    /// <summary>Take a snapshot when this much time passed since the last one and events arrived (0 = never by time).</summary>
    public int SnapshotIntervalSeconds { get; set; } = 600;
    /// <summary>Take a snapshot during graceful shutdown, so the next start replays nothing.</summary>
    public bool SnapshotOnShutdown { get; set; } = true;
    /// <summary>Snapshots kept on disk. With <see cref="TruncateJournal"/> at least 2, so a damaged newest snapshot still leaves an older one with its complete log.</summary>
    public int SnapshotsKept { get; set; } = 2;
    /// <summary>
    /// Bounded journal retention: truncate the journal (and delete the segment files entirely below the new begin) no
    /// further than the journal address of the oldest snapshot still kept, and no further than <see cref="Retention"/>'s
    /// age floor and durable consumer cursors allow (within its disk budget), so the log stops growing without bound
    /// while recovery always has a snapshot plus the complete log after it. Runs on a background thread, never on the
    /// decide thread. On by default: nothing grows without bound. The server's read model starts from its own snapshot
    /// (or, when truncation overtook that, from the engine's). Subscribers and read replicas that fall behind the begin
    /// get OUT_OF_RANGE (<see cref="Engine.Journal.JournalTruncatedException"/> underneath) and rebuild from a snapshot.
    /// </summary>
    public bool TruncateJournal { get; set; } = true;
    /// <summary>
    /// With <see cref="TruncateJournal"/>: keep at least this many bytes of journal before the committed end even when
    /// the oldest snapshot is newer, so lagging replicas can catch up from the log instead of a snapshot (0 = keep
    /// only what snapshots need). Rounded to a page start; whole segment files are deleted only once entirely below.
    /// </summary>
    public long JournalRetainBytesMin { get; set; }
    /// <summary>With <see cref="TruncateJournal"/>: the age floor, the disk budget and the named consumer cursors (section <c>Engine:Retention</c>).</summary>
    public RetentionOptions Retention { get; set; } = new();
    /// <summary>BENCHMARK ONLY: reply before the journal's fsync completes. A crash can lose replied commands.</summary>
    public bool AcknowledgeBeforeFsync { get; set; }
    /// <summary>How pipeline threads wait for work: Hybrid (spin, yield, then block — the default for small machines), Blocking, Yielding or BusySpin.</summary>
    public string WaitStrategy { get; set; } = "Hybrid";
    /// <summary>FASTER log page size as a power of two (22 = 4 MiB).</summary>
    public int JournalPageSizeBits { get; set; } = 22;
    /// <summary>FASTER log in-memory buffer as a power of two (26 = 64 MiB).</summary>
    public int JournalMemorySizeBits { get; set; } = 26;
    /// <summary>FASTER log segment file size as a power of two (30 = 1 GiB).</summary>
    public int JournalSegmentSizeBits { get; set; } = 30;
    /// <summary>
    /// Spill request ids beyond <see cref="LedgerOptions.IdempotencyMaxEntries"/> (the memory tier) to a store on disk
    /// under <c>&lt;data&gt;/idempotency</c> while they are inside the window, instead of forgetting them. Off: the
    /// window shrinks under sustained load (logged, reported in GetStatus); for benchmarks comparing the two.
    /// </summary>
    public bool IdempotencySpill { get; set; } = true;
    /// <summary>Spill store hash index: 2^bits buckets of 64 bytes, 7 ids each before overflow (20 = 64 MiB). Size it near the window's ids / 4.</summary>
    public int IdempotencySpillIndexSizeBits { get; set; } = 20;
    /// <summary>Spill store log kept in memory, as a power of two (26 = 64 MiB); older spilled ids are read from disk.</summary>
    public int IdempotencySpillMemorySizeBits { get; set; } = 26;
    /// <summary>Spill store log page, as a power of two (22 = 4 MiB); at most IdempotencySpillMemorySizeBits − 1.</summary>
    public int IdempotencySpillPageSizeBits { get; set; } = 22;
    /// <summary>Ledger limits (hold expiry, retention windows, per-account caps).</summary>
    public LedgerOptions Ledger { get; set; } = new();
    /// <summary>What start-up may do with a damaged journal (<c>Engine:Recovery:CutDamagedTail</c>).</summary>
    public RecoveryOptions Recovery { get; set; } = new();
    /// <summary>Test seam under the journal's commits and the snapshot writer (<see cref="Engine.Journal.IStorageFaultInjector"/>); set in code only, null in production.</summary>
    public Engine.Journal.IStorageFaultInjector? StorageFaults { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    /// <summary>
    /// The journal settings these options mean, for a journal in <paramref name="directoryPath"/>: the engine's own,
    /// a read replica's copy, or a tool reading either. Page and segment sizes are not stored in the journal, so every
    /// reader must use the same ones. A record holds <see cref="JournalRecordBytesMax"/> of events plus the block header.
    /// <see cref="AcknowledgeBeforeFsync"/> applies only where replies are acknowledged from the journal
    /// (<paramref name="acknowledgesReplies"/>): never to a replica's copy, whose snapshots need its commits durable.
    /// </summary>
    public Engine.Journal.JournalOptions JournalOptionsAt(string directoryPath, bool acknowledgesReplies = true) => new()
    {
        DirectoryPath = directoryPath,
        PageSizeBits = JournalPageSizeBits,
        MemorySizeBits = JournalMemorySizeBits,
        SegmentSizeBits = JournalSegmentSizeBits,
        // The block header and the record framing sit on top of the events; 64 bytes covers both with room.
        RecordBytesMax = JournalRecordBytesMax + RecordOverheadBytesMax,
        AcknowledgeBeforeFsync = acknowledgesReplies && AcknowledgeBeforeFsync,
        FaultInjector = acknowledgesReplies ? StorageFaults : null,
    };

    public void Validate()
    {
        if (RingSize < 64 || (RingSize & (RingSize - 1)) != 0) throw new ArgumentException("Engine:RingSize must be a power of two >= 64", nameof(RingSize));
        if (DecideBatchSizeMax < 1) throw new ArgumentException("Engine:DecideBatchSizeMax must be >= 1", nameof(DecideBatchSizeMax));
        if (CommitBatchSizeMax < 1) throw new ArgumentException("Engine:CommitBatchSizeMax must be >= 1", nameof(CommitBatchSizeMax));
        if (JournalRecordBytesMax < 4 * Domain.EventCodec.EncodedSizeMax) throw new ArgumentException($"Engine:JournalRecordBytesMax must be >= {4 * Domain.EventCodec.EncodedSizeMax}", nameof(JournalRecordBytesMax));
        if (TickIntervalMs is < 1 or > 1000) throw new ArgumentException("Engine:TickIntervalMs must be 1..1000 (holds must expire within one second)", nameof(TickIntervalMs));
        if (string.IsNullOrWhiteSpace(DataDirectory)) throw new ArgumentException("Engine:DataDirectory is required", nameof(DataDirectory));
        if (SnapshotsKept < 1) throw new ArgumentException("Engine:SnapshotsKept must be >= 1", nameof(SnapshotsKept));
        if (TruncateJournal && SnapshotsKept < 2) throw new ArgumentException("Engine:SnapshotsKept must be >= 2 with Engine:TruncateJournal, so a damaged newest snapshot still leaves one with its complete log", nameof(SnapshotsKept));
        if (IdempotencySpillIndexSizeBits is < 10 or > 32) throw new ArgumentException("Engine:IdempotencySpillIndexSizeBits must be 10..32", nameof(IdempotencySpillIndexSizeBits));
        if (IdempotencySpillPageSizeBits is < 12 or > 30) throw new ArgumentException("Engine:IdempotencySpillPageSizeBits must be 12..30", nameof(IdempotencySpillPageSizeBits));
        if (IdempotencySpillMemorySizeBits <= IdempotencySpillPageSizeBits || IdempotencySpillMemorySizeBits > 40)
            throw new ArgumentException("Engine:IdempotencySpillMemorySizeBits must be > Engine:IdempotencySpillPageSizeBits and <= 40", nameof(IdempotencySpillMemorySizeBits));
        if (Ledger.IdempotencyMaxEntries < 1) throw new ArgumentException("Engine:Ledger:IdempotencyMaxEntries must be >= 1", nameof(Ledger));
        if (JournalRetainBytesMin < 0) throw new ArgumentException("Engine:JournalRetainBytesMin must be >= 0", nameof(JournalRetainBytesMin));
        Retention.Validate();
    }
}
