namespace Engine.Journal;

/// <summary>A verified snapshot: the state after event <paramref name="Sequence"/>, covering the journal up to <paramref name="JournalAddress"/>.</summary>
/// <param name="Sequence">Sequence number of the last event the snapshot includes.</param>
/// <param name="JournalAddress">Journal address to resume replay from (everything before it is in the snapshot).</param>
/// <param name="BodyLength">Bytes in the body (after the header).</param>
/// <param name="BodyCrc32C">CRC-32C (Castagnoli) of the body, as stored in the header: what a receiver checks a copy against.</param>
/// <param name="Path">The snapshot file.</param>
public readonly record struct SnapshotInfo(long Sequence, long JournalAddress, long BodyLength, uint BodyCrc32C, string Path);
