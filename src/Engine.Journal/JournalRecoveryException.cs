namespace Engine.Journal;

/// <summary>
/// The journal could not be opened because its commit metadata is missing, damaged or disagrees with what
/// FASTER recovered. Start-up stops: guessing how much of the log is durable could serve wrong balances.
/// </summary>
public sealed class JournalRecoveryException : Exception
{
    public JournalRecoveryException(string message)
        : base(message)
    {
    }

    public JournalRecoveryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
