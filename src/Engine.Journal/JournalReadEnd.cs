namespace Engine.Journal;

/// <summary>Why a <see cref="JournalReader"/> stopped.</summary>
public enum JournalReadEndKind
{
    /// <summary>The reader has not reached the end (it returned a record, or has not been called yet).</summary>
    None = 0,

    /// <summary>The reader consumed every committed record; <see cref="JournalReadEnd.Address"/> is where the next one will be.</summary>
    Clean = 1,

    /// <summary>
    /// The committed region ends in a record that fails verification and no valid record follows it:
    /// a torn write. <see cref="JournalReadEnd.Address"/> is the first bad record; pass it to <see cref="EventJournal.CutTail"/>.
    /// </summary>
    TornTail = 2,
}

/// <summary>End state of a <see cref="JournalReader"/> after <see cref="JournalReader.TryReadNext"/> returned false.</summary>
public readonly record struct JournalReadEnd(JournalReadEndKind Kind, long Address)
{
    public bool IsClean => Kind == JournalReadEndKind.Clean;

    public bool IsTornTail => Kind == JournalReadEndKind.TornTail;

    public static JournalReadEnd Clean(long address) => new(JournalReadEndKind.Clean, address);

    public static JournalReadEnd TornTail(long address) => new(JournalReadEndKind.TornTail, address);

    public override string ToString() => Kind switch
    {
        JournalReadEndKind.Clean => $"Clean({Address})",
        JournalReadEndKind.TornTail => $"TornTail({Address})",
        _ => "None",
    };
}
