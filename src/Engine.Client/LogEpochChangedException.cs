namespace Engine.Client;

/// <summary>
/// A resuming <see cref="CreditEngineClient.SubscribeAsync(long, long?, CancellationToken)"/> found the server's log
/// epoch changed: the engine's committed log was cut after damage (Engine:Recovery:CutDamagedTail) and the sequences
/// from the cut on now name other events. Resuming at <see cref="NextSequence"/> would silently splice two histories,
/// so the stream stops. Rebuild whatever was derived from events at or after the cut, then subscribe afresh.
/// </summary>
public sealed class LogEpochChangedException : Exception
{
    public LogEpochChangedException(long expectedLogEpoch, long actualLogEpoch, long nextSequence)
        : base($"the event stream's log epoch changed from {expectedLogEpoch} to {actualLogEpoch}: the server's log was cut after damage and sequences were re-used, " +
            $"so resuming at sequence {nextSequence} would mix two histories. Rebuild what was derived from the stream, then subscribe again under epoch {actualLogEpoch}.")
    {
        ExpectedLogEpoch = expectedLogEpoch;
        ActualLogEpoch = actualLogEpoch;
        NextSequence = nextSequence;
    }

    /// <summary>The epoch the subscription started under (or was given).</summary>
    public long ExpectedLogEpoch { get; }

    /// <summary>The epoch the server now reports.</summary>
    public long ActualLogEpoch { get; }

    /// <summary>The sequence the subscription would have resumed at.</summary>
    public long NextSequence { get; }
}
