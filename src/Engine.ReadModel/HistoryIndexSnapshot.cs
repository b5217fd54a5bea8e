namespace Engine.ReadModel;

/// <summary>
/// The read-model section of a read-model snapshot, after the ledger: the sequence index and every account's event
/// locations, framed by a magic number at both ends that also names the format.
/// <list type="bullet">
/// <item><c>RMX1</c> (read only): each location a packed long, <c>address &lt;&lt; 20 | offset</c> — addresses below
/// 2^43 only.</item>
/// <item><c>RMX2</c> (written): each location the full 64-bit record address, then the 32-bit payload offset.</item>
/// </list>
/// An RMX1 snapshot loads as it is (its addresses are all below 2^43, which RMX2 holds too); the next snapshot is RMX2.
/// </summary>
internal static class HistoryIndexSnapshot
{
    public const uint PackedFormatMagic = 0x31584D52; // "RMX1"
    public const uint FormatMagic = 0x32584D52; // "RMX2"

    public static void Write(Stream stream, SequenceIndex sequenceIndex, IReadOnlyDictionary<string, AccountIndex> accounts)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.ASCII, leaveOpen: true);
        writer.Write(FormatMagic);
        sequenceIndex.Write(writer);
        writer.Write(accounts.Count);
        foreach ((string accountId, AccountIndex account) in accounts)
        {
            writer.Write(accountId);
            writer.Write(account.Events.Count);
            for (int i = 0; i < account.Events.Count; i++)
            {
                EventLocation location = account.Events[i];
                writer.Write(location.RecordAddress);
                writer.Write(location.PayloadOffset);
            }
        }
        writer.Write(FormatMagic);
    }

    /// <summary>
    /// Reads the section into <paramref name="sequenceIndex"/> and <paramref name="accounts"/>, dropping entries for
    /// records before <paramref name="beginAddress"/> (truncated since). Returns the history events kept and the
    /// format's magic.
    /// </summary>
    public static (long HistoryEvents, uint Format) Read(Stream stream, SequenceIndex sequenceIndex, Dictionary<string, AccountIndex> accounts, long beginAddress)
    {
        using var reader = new BinaryReader(stream, System.Text.Encoding.ASCII, leaveOpen: true);
        uint magic = reader.ReadUInt32();
        if (magic != FormatMagic && magic != PackedFormatMagic) throw new FormatException("read-model snapshot: no read-model section after the ledger");
        bool packed = magic == PackedFormatMagic;
        sequenceIndex.Read(reader);
        sequenceIndex.DropBefore(beginAddress);
        int accountCount = reader.ReadInt32();
        if (accountCount < 0) throw new FormatException("read-model snapshot: negative account count");
        long historyEvents = 0;
        for (int a = 0; a < accountCount; a++)
        {
            string accountId = reader.ReadString();
            int count = reader.ReadInt32();
            if (count < 0) throw new FormatException($"read-model snapshot: negative event count for account '{accountId}'");
            var account = new AccountIndex();
            for (int i = 0; i < count; i++)
                account.Events.Add(packed ? EventLocation.FromLegacyPacked(reader.ReadInt64()) : ReadLocation(reader, accountId));
            historyEvents += count - account.Events.DropBefore(beginAddress);
            accounts[accountId] = account;
        }
        if (reader.ReadUInt32() != magic) throw new FormatException("read-model snapshot: read-model section has no end marker (truncated?)");
        return (historyEvents, magic);
    }

    private static EventLocation ReadLocation(BinaryReader reader, string accountId)
    {
        long address = reader.ReadInt64();
        int offset = reader.ReadInt32();
        if (address < 0 || (uint)offset > EventLocation.PayloadOffsetMax)
            throw new FormatException($"read-model snapshot: event location (address {address}, offset {offset}) of account '{accountId}' is not a journal position");
        return new EventLocation(address, offset);
    }
}
