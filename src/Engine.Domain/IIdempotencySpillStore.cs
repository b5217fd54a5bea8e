namespace Engine.Domain;

/// <summary>
/// The larger-than-memory tier of the <see cref="IdempotencyTable"/>: request ids pushed out of memory by
/// <see cref="LedgerOptions.IdempotencyMaxEntries"/> while still inside the retention window. An append-only log of
/// records with a key index; the table decides what goes in and when the oldest leave. Owned by the thread that owns
/// the ledger (the decide thread); not thread-safe.
/// <para>
/// It is derived state, not a source of truth: the ledger snapshot lists every remembered id (both tiers), so a store
/// is created empty at start-up and refilled by restoring the snapshot and replaying the journal after it. Nothing in
/// it needs to survive a crash.
/// </para>
/// </summary>
public interface IIdempotencySpillStore : IDisposable
{
    /// <summary>Appends a record (never updates an older one in place, so <see cref="ReadAll"/> is in write order).</summary>
    void Write(UInt128 requestKey, in IdempotencyRecord record);

    /// <summary>The newest record written for the key since <see cref="ForgetBefore"/>; may read the disk.</summary>
    bool TryRead(UInt128 requestKey, out IdempotencyRecord record);

    /// <summary>The address just past the last record written: a later <see cref="ForgetBefore"/> of it drops everything written so far.</summary>
    long TailAddress { get; }

    /// <summary>Forgets every record written before <paramref name="address"/> (a value <see cref="TailAddress"/> returned).</summary>
    void ForgetBefore(long address);

    /// <summary>Every record not forgotten, oldest first (snapshots).</summary>
    IEnumerable<(UInt128 Key, IdempotencyRecord Record)> ReadAll();
}
