namespace Engine.Journal;

/// <summary>
/// A committed journal record failed verification and valid records follow it, so this is not a torn tail
/// that could safely be cut: the middle of the log is damaged. Start-up must stop rather than replay a log
/// with a hole in it and serve wrong balances.
/// </summary>
public sealed class JournalCorruptException : Exception
{
    /// <summary>Log address of the first record that failed verification.</summary>
    public long Address { get; }

    public JournalCorruptException(long address, string message)
        : base(message)
    {
        Address = address;
    }

    public JournalCorruptException(long address, string message, Exception innerException)
        : base(message, innerException)
    {
        Address = address;
    }
}
