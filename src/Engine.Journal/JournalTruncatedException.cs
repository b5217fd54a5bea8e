namespace Engine.Journal;

/// <summary>
/// A read asked for records before <see cref="EventJournal.BeginAddress"/>: retention truncated them (and deleted the
/// segment files holding them). A follower that gets this has fallen behind the leader's retention and must rebuild
/// from a snapshot instead of the log.
/// </summary>
public sealed class JournalTruncatedException : Exception
{
    /// <summary>The address the reader asked for (or had reached).</summary>
    public long RequestedAddress { get; }

    /// <summary>The journal's begin address when the read was refused: the oldest record still readable.</summary>
    public long BeginAddress { get; }

    public JournalTruncatedException(long requestedAddress, long beginAddress)
        : base($"journal address {requestedAddress} is before the journal's begin address {beginAddress}: those records were truncated by retention. " +
            "Rebuild from a snapshot (its journal address is at or after the begin) and follow the log from there.")
    {
        RequestedAddress = requestedAddress;
        BeginAddress = beginAddress;
    }

    public JournalTruncatedException(long requestedAddress, long beginAddress, string message)
        : base(message)
    {
        RequestedAddress = requestedAddress;
        BeginAddress = beginAddress;
    }
}
