using System.IO.Hashing;

namespace Engine.Domain;

/// <summary>
/// Whole-state serialization. The output is deterministic (accounts in index order, open
/// authorizations by creation sequence, retired ones and request ids oldest first), so two ledgers
/// with the same state write the same bytes: <see cref="ComputeDigest"/> compares them.
/// Integrity (checksum, atomic write) is the snapshot store's job.
/// </summary>
public sealed partial class Ledger
{
    private const uint SnapshotMagic = 0x504E534C; // "LSNP"
    /// <summary>
    /// 2: authorizations carry <see cref="AuthorizationRecord.ReversedMinor"/>, and the request ids (both idempotency
    /// tiers) end with a marker instead of starting with a count. 1 (still read): no reversals — open authorizations
    /// then get the lower bound authorized − held − captured, exact unless a capture exceeded the hold — and a count
    /// before the request ids.
    /// </summary>
    /// <summary>Version 3 adds the credit lifecycle (clock offset, per-account lifecycle state); 1 and 2 still load.</summary>
    private const int SnapshotVersion = 3;
    private const int SnapshotVersion2 = 2;
    private const int SnapshotVersion1 = 1;

    public void WriteSnapshot(Stream stream) => WriteSnapshot(stream, SnapshotVersion);

    /// <summary>True when the ledger holds lifecycle state (a clock offset or an account's lifecycle): only version 3 can carry it.</summary>
    private bool HasLifecycleState
    {
        get
        {
            if (ClockOffsetMs != 0) return true;
            for (int i = 0; i < _accountCount; i++) if (_accounts[i].Lifecycle is not null) return true;
            return false;
        }
    }

    /// <summary>Writes snapshot format <paramref name="version"/> (3, or 2 for a ledger without lifecycle state: compatibility tests and digests).</summary>
    internal void WriteSnapshot(Stream stream, int version)
    {
        if (version is not (SnapshotVersion or SnapshotVersion2)) throw new ArgumentOutOfRangeException(nameof(version));
        if (version == SnapshotVersion2 && HasLifecycleState) throw new InvalidOperationException("snapshot version 2 cannot hold lifecycle state");
        bool lifecycleFormat = version >= SnapshotVersion;
        using var writer = new BinaryWriter(stream, System.Text.Encoding.ASCII, leaveOpen: true);
        writer.Write(SnapshotMagic);
        writer.Write(version);
        writer.Write(LastSequence);
        writer.Write(LastTimestampUnixMs);
        if (lifecycleFormat) writer.Write(ClockOffsetMs);

        writer.Write(_accountCount);
        for (int i = 0; i < _accountCount; i++)
        {
            ref readonly Account account = ref _accounts[i];
            writer.Write(account.Id);
            writer.Write(account.CustomerId);
            writer.Write(account.CreditLimitMinor);
            writer.Write(account.TemporaryLimitMinor);
            writer.Write(account.TemporaryLimitExpiresAtUnixMs);
            writer.Write(account.HeldMinor);
            writer.Write(account.PostedMinor);
            writer.Write(account.OpenAuthorizations);
            writer.Write(account.CurrencyCode);
            writer.Write((byte)account.Status);
            writer.Write(account.OvercapturePercent);
            writer.Write(account.Controls is not null);
            if (account.Controls is { } controls)
            {
                SpendingControls spec = controls.Spec;
                writer.Write(spec.MaxAuthorizationAmountMinor);
                writer.Write(spec.VelocityMaxCount);
                writer.Write(spec.VelocityMaxAmountMinor);
                writer.Write(spec.VelocityWindowSeconds);
                writer.Write(spec.BlockedMccs.Length);
                foreach (int mcc in spec.BlockedMccs) writer.Write(mcc);
                writer.Write(controls.WindowStartUnixMs);
                writer.Write(controls.WindowCount);
                writer.Write(controls.WindowAmountMinor);
            }
            if (!lifecycleFormat) continue;
            writer.Write(account.Lifecycle is not null);
            if (account.Lifecycle is { } lifecycle) WriteLifecycle(writer, lifecycle);
        }

        writer.Write(checked((int)_retired.Count));
        foreach (int slot in _retired.Items) WriteAuthorization(writer, _authorizations.At(slot));
        // Slots are reused, so slot order differs between ledgers with the same state: sort by creation sequence.
        var open = new List<(long CreatedSequence, int Slot)>(_expiryHeap.Count);
        foreach (int slot in _authorizations.Slots)
        {
            ref readonly AuthorizationRecord authorization = ref _authorizations.At(slot);
            if (authorization.State == AuthorizationState.Open) open.Add((authorization.CreatedSequence, slot));
        }
        open.Sort();
        writer.Write(open.Count);
        foreach ((_, int slot) in open) WriteAuthorization(writer, _authorizations.At(slot));

        // Request ids, oldest first, each behind a 1 and the list ended by a 0: the spill store's share is read back
        // while writing, so the count is not known up front (format version 2; version 1 wrote a count first).
        foreach ((UInt128 key, IdempotencyRecord record) in _idempotency.InOrder())
        {
            writer.Write((byte)1);
            writer.Write((ulong)(key >> 64));
            writer.Write((ulong)key);
            writer.Write(record.PayloadFingerprint);
            writer.Write(record.Sequence);
            writer.Write(record.TimestampUnixMs);
            writer.Write(record.AvailableMinor);
            writer.Write(record.HeldMinor);
            writer.Write(record.PostedMinor);
            writer.Write((byte)record.Status);
        }
        writer.Write((byte)0);
        writer.Write(SnapshotMagic);
    }

    /// <summary>Reads a snapshot; <paramref name="idempotencySpill"/> as for the constructor (an empty store, or null).</summary>
    public static Ledger ReadSnapshot(Stream stream, LedgerOptions? options = null, IIdempotencySpillStore? idempotencySpill = null)
    {
        var ledger = new Ledger(options, idempotencySpill);
        using var reader = new BinaryReader(stream, System.Text.Encoding.ASCII, leaveOpen: true);
        if (reader.ReadUInt32() != SnapshotMagic) throw new FormatException("not a ledger snapshot (bad magic)");
        int version = reader.ReadInt32();
        if (version is not (SnapshotVersion or SnapshotVersion2 or SnapshotVersion1))
            throw new FormatException($"ledger snapshot version {version} is not supported (expected {SnapshotVersion1}..{SnapshotVersion})");
        ledger.LastSequence = reader.ReadInt64();
        ledger.LastTimestampUnixMs = reader.ReadInt64();
        if (version >= SnapshotVersion) ledger.ClockOffsetMs = reader.ReadInt64();

        int accountCount = reader.ReadInt32();
        if (accountCount > ledger._accounts.Length) ledger._accounts = new Account[Math.Max(accountCount, 1024)];
        for (int i = 0; i < accountCount; i++)
        {
            var account = new Account
            {
                Id = reader.ReadString(),
                CustomerId = reader.ReadString(),
                CreditLimitMinor = reader.ReadInt64(),
                TemporaryLimitMinor = reader.ReadInt64(),
                TemporaryLimitExpiresAtUnixMs = reader.ReadInt64(),
                HeldMinor = reader.ReadInt64(),
                PostedMinor = reader.ReadInt64(),
                OpenAuthorizations = reader.ReadInt32(),
                CurrencyCode = reader.ReadUInt16(),
                Status = (AccountStatus)reader.ReadByte(),
                OvercapturePercent = reader.ReadByte(),
            };
            if (reader.ReadBoolean())
            {
                long maxAuthorization = reader.ReadInt64();
                int velocityCount = reader.ReadInt32();
                long velocityAmount = reader.ReadInt64();
                int windowSeconds = reader.ReadInt32();
                var mccs = new int[reader.ReadInt32()];
                for (int m = 0; m < mccs.Length; m++) mccs[m] = reader.ReadInt32();
                account.Controls = new AccountControls(new SpendingControls
                {
                    MaxAuthorizationAmountMinor = maxAuthorization,
                    VelocityMaxCount = velocityCount,
                    VelocityMaxAmountMinor = velocityAmount,
                    VelocityWindowSeconds = windowSeconds,
                    BlockedMccs = mccs,
                })
                {
                    WindowStartUnixMs = reader.ReadInt64(),
                    WindowCount = reader.ReadInt32(),
                    WindowAmountMinor = reader.ReadInt64(),
                };
            }
            if (version >= SnapshotVersion && reader.ReadBoolean()) account.Lifecycle = ReadLifecycle(reader);
            account.DelinquencyFrozen = account.Lifecycle is { Stage: >= DelinquencyStage.FrozenDelinquent };
            // Keys are not stored (the format predates them): one hash per id at load, as decoding an event does.
            account.Key = Fingerprints.IdKey(account.Id);
            ledger.AddAccount(account);
        }

        int retiredCount = reader.ReadInt32();
        for (int i = 0; i < retiredCount; i++)
        {
            ledger._retired.Enqueue(ledger._authorizations.Add(ReadAuthorization(reader, version)));
        }
        int openCount = reader.ReadInt32();
        for (int i = 0; i < openCount; i++)
        {
            ledger._expiryHeap.Add(ledger._authorizations.Add(ReadAuthorization(reader, version)));
        }

        if (version == SnapshotVersion1)
        {
            int idempotencyCount = reader.ReadInt32();
            for (int i = 0; i < idempotencyCount; i++) RestoreRequestId(ledger, reader);
        }
        else
        {
            for (byte more = reader.ReadByte(); more != 0; more = reader.ReadByte())
            {
                if (more != 1) throw new FormatException($"ledger snapshot: bad request-id list marker {more}");
                RestoreRequestId(ledger, reader);
            }
        }
        if (reader.ReadUInt32() != SnapshotMagic) throw new FormatException("ledger snapshot has no end marker (truncated?)");
        ledger.RebuildLifecycleTimers();
        return ledger;
    }

    private static void RestoreRequestId(Ledger ledger, BinaryReader reader)
    {
        ulong high = reader.ReadUInt64();
        ulong low = reader.ReadUInt64();
        var record = new IdempotencyRecord
        {
            PayloadFingerprint = reader.ReadUInt64(),
            Sequence = reader.ReadInt64(),
            TimestampUnixMs = reader.ReadInt64(),
            AvailableMinor = reader.ReadInt64(),
            HeldMinor = reader.ReadInt64(),
            PostedMinor = reader.ReadInt64(),
            Status = (Status)reader.ReadByte(),
        };
        ledger._idempotency.Restore(new UInt128(high, low), record);
    }

    /// <summary>A 128-bit digest of the whole state (the hash of its snapshot bytes).</summary>
    public UInt128 ComputeDigest()
    {
        var hash = new XxHash128();
        using var stream = new HashingStream(hash);
        // A ledger without lifecycle state hashes in the version 2 layout, so its digest does not depend on the
        // snapshot format it could have been written in (digests recorded before version 3 still compare).
        WriteSnapshot(stream, HasLifecycleState ? SnapshotVersion : SnapshotVersion2);
        return hash.GetCurrentHashAsUInt128();
    }

    private static void WriteAuthorization(BinaryWriter writer, in AuthorizationRecord authorization)
    {
        writer.Write(authorization.Id!);
        writer.Write(authorization.AccountIndex);
        writer.Write(authorization.CreatedSequence);
        writer.Write(authorization.AuthorizedMinor);
        writer.Write(authorization.HeldMinor);
        writer.Write(authorization.CapturedMinor);
        writer.Write(authorization.RefundedMinor);
        writer.Write(authorization.ReversedMinor);
        writer.Write(authorization.ExpiresAtUnixMs);
        writer.Write(authorization.ClosedAtUnixMs);
        writer.Write((byte)authorization.State);
    }

    private static AuthorizationRecord ReadAuthorization(BinaryReader reader, int version)
    {
        string id = reader.ReadString();
        var record = new AuthorizationRecord
        {
            Id = id,
            Key = Fingerprints.IdKey(id),
            AccountIndex = reader.ReadInt32(),
            CreatedSequence = reader.ReadInt64(),
            AuthorizedMinor = reader.ReadInt64(),
            HeldMinor = reader.ReadInt64(),
            CapturedMinor = reader.ReadInt64(),
            RefundedMinor = reader.ReadInt64(),
        };
        if (version >= SnapshotVersion2) record.ReversedMinor = reader.ReadInt64();
        record.ExpiresAtUnixMs = reader.ReadInt64();
        record.ClosedAtUnixMs = reader.ReadInt64();
        record.State = (AuthorizationState)reader.ReadByte();
        if (version == SnapshotVersion1 && record.State == AuthorizationState.Open)
        {
            // Held = authorized − reversed − what captures released, and a capture releases at most its amount, so
            // authorized − held − captured never exceeds what was really reversed: the tolerance it gives is never
            // tighter than the truth, and equals it unless a capture went over the hold.
            record.ReversedMinor = Math.Max(0, record.AuthorizedMinor - record.HeldMinor - record.CapturedMinor);
        }
        return record;
    }

    /// <summary>A write-only stream that feeds a hash, so a digest needs no buffer of the whole state.</summary>
    private sealed class HashingStream(NonCryptographicHashAlgorithm hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => hash.Append(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer) => hash.Append(buffer);
    }
}
