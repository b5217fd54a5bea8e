using Engine.Domain;
using FASTER.core;
using Status = FASTER.core.Status;

namespace Engine.Core;

/// <summary>
/// The idempotency table's spill tier on FASTER's <see cref="FasterKV{Key, Value}"/>: a hybrid log of
/// (request key, record) whose newest part stays in memory (<see cref="EngineOptions.IdempotencySpillMemorySizeBits"/>)
/// and the rest on disk under <c>&lt;data&gt;/idempotency</c>, with an in-memory hash index
/// (<see cref="EngineOptions.IdempotencySpillIndexSizeBits"/>).
/// <para>
/// Why no filter in front: the index answers an unknown key from memory unless the key's 14-bit tag matches one in its
/// bucket, which with the index sized for the window (about one bucket per 4–8 spilled ids) is a fraction of a
/// percent of look-ups; <see cref="NegativeDiskReads"/> counts those and the tests and benchmark report it. A Bloom
/// filter would cost about as much memory per id for the same rate and cannot forget.
/// </para>
/// <para>
/// Derived state (see <see cref="IIdempotencySpillStore"/>): the directory is wiped at open and the log file deleted
/// at close, no FASTER checkpoint is taken, and recovery refills the store from the ledger snapshot and the journal.
/// Records are only appended (<see cref="AppendOnlyFunctions"/>), so a log scan is in write order and forgetting the
/// oldest is moving the log's begin address. Used by one thread at a time (the decide thread).
/// </para>
/// </summary>
public sealed class FasterIdempotencySpillStore : IIdempotencySpillStore
{
    private const int SegmentSizeBits = 30;

    private readonly int _indexSizeBits;
    private readonly int _memorySizeBits;
    private readonly int _pageSizeBits;
    // Opened at the first spill: most engines never spill, and the index is allocated (and pinned) up front.
    private IDevice? _device;
    private FasterKV<UInt128, IdempotencyRecord>? _store;
    private ClientSession<UInt128, IdempotencyRecord, IdempotencyRecord, IdempotencyRecord, Empty, AppendOnlyFunctions>? _session;

    /// <summary>Wipes <paramref name="directoryPath"/> (a previous run's store is stale by design); the store itself opens at the first write.</summary>
    public FasterIdempotencySpillStore(string directoryPath, int indexSizeBits, int memorySizeBits, int pageSizeBits)
    {
        if (Directory.Exists(directoryPath)) Directory.Delete(directoryPath, recursive: true);
        Directory.CreateDirectory(directoryPath);
        DirectoryPath = directoryPath;
        _indexSizeBits = indexSizeBits;
        _memorySizeBits = memorySizeBits;
        _pageSizeBits = pageSizeBits;
    }

    private ClientSession<UInt128, IdempotencyRecord, IdempotencyRecord, IdempotencyRecord, Empty, AppendOnlyFunctions> Open()
    {
        if (_session is not null) return _session;
        _device = Devices.CreateLogDevice(Path.Combine(DirectoryPath, "spill.log"), preallocateFile: false, deleteOnClose: true);
        _store = new FasterKV<UInt128, IdempotencyRecord>(new FasterKVSettings<UInt128, IdempotencyRecord>
        {
            // 64-byte buckets of 7 entries each.
            IndexSize = 64L << _indexSizeBits,
            LogDevice = _device,
            PageSize = 1L << _pageSizeBits,
            MemorySize = 1L << _memorySizeBits,
            SegmentSize = 1L << SegmentSizeBits,
            EqualityComparer = new RequestKeyComparer(),
            // A record read from disk stays there: copying it to the tail would break write order.
            ReadCopyOptions = new ReadCopyOptions(ReadCopyFrom.None, ReadCopyTo.None),
            TryRecoverLatest = false,
        });
        _session = _store.For(new AppendOnlyFunctions()).NewSession<AppendOnlyFunctions>();
        return _session;
    }

    public string DirectoryPath { get; }
    /// <summary>Look-ups that read the disk (spilled ids found there, and unknown ids whose index tag collided).</summary>
    public long DiskReads { get; private set; }
    /// <summary>Look-ups that read the disk and found nothing: the cost of answering unknown ids from the index.</summary>
    public long NegativeDiskReads { get; private set; }
    /// <summary>True once the first record was written (the FASTER store exists).</summary>
    public bool IsOpen => _session is not null;
    public long TailAddress => _store?.Log.TailAddress ?? 0;

    public void Write(UInt128 requestKey, in IdempotencyRecord record)
    {
        IdempotencyRecord value = record;
        var session = Open();
        Status status = session.Upsert(ref requestKey, ref value);
        if (status.IsPending) session.CompletePending(wait: true);
    }

    public bool TryRead(UInt128 requestKey, out IdempotencyRecord record)
    {
        IdempotencyRecord output = default;
        if (_session is null)
        {
            record = default;
            return false;
        }
        Status status = _session.Read(ref requestKey, ref output);
        if (status.IsPending)
        {
            DiskReads++;
            _session.CompletePendingWithOutputs(out CompletedOutputIterator<UInt128, IdempotencyRecord, IdempotencyRecord, IdempotencyRecord, Empty> completed, wait: true);
            using (completed)
            {
                if (!completed.Next()) throw new InvalidOperationException("idempotency spill store: a pending read completed without an output");
                status = completed.Current.Status;
                output = completed.Current.Output;
            }
            if (!status.Found) NegativeDiskReads++;
        }
        record = output;
        return status.Found;
    }

    public void ForgetBefore(long address) => _store?.Log.ShiftBeginAddress(address, truncateLog: true);

    public IEnumerable<(UInt128 Key, IdempotencyRecord Record)> ReadAll()
    {
        if (_store is null) yield break;
        using IFasterScanIterator<UInt128, IdempotencyRecord> records = _store.Log.Scan(_store.Log.BeginAddress, _store.Log.TailAddress);
        while (records.GetNext(out RecordInfo info))
        {
            if (info.Tombstone) continue;
            yield return (records.GetKey(), records.GetValue());
        }
    }

    public void Dispose()
    {
        _session?.Dispose();
        _store?.Dispose();
        _device?.Dispose();
    }

    /// <summary>Request keys are already uniform 128-bit hashes: their low half is the index hash.</summary>
    private sealed class RequestKeyComparer : IFasterEqualityComparer<UInt128>
    {
        public long GetHashCode64(ref UInt128 key) => (long)(ulong)key;
        public bool Equals(ref UInt128 left, ref UInt128 right) => left == right;
    }

    /// <summary>Upsert of a key already in the mutable region appends a new record instead of overwriting it in place.</summary>
    public sealed class AppendOnlyFunctions : SimpleFunctions<UInt128, IdempotencyRecord>
    {
        public override bool ConcurrentWriter(ref UInt128 key, ref IdempotencyRecord input, ref IdempotencyRecord src, ref IdempotencyRecord dst, ref IdempotencyRecord output, ref UpsertInfo upsertInfo) => false;
    }
}
