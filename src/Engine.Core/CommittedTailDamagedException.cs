namespace Engine.Core;

/// <summary>
/// Start-up refused: the committed journal ends in records that fail verification with nothing valid after them.
/// Those records were fsync'd before their commands were answered, so cutting them would silently lose
/// acknowledged commands. Carries what is known about the damage; <see cref="RecoveryOptions.CutDamagedTail"/>
/// lets an operator cut it knowingly.
/// </summary>
public sealed class CommittedTailDamagedException : Exception
{
    public CommittedTailDamagedException(long damagedAddress, long committedUntilAddress, long lastGoodSequence, long logEpoch)
        : base($"journal damaged inside its committed range: the record at address {damagedAddress} fails verification and nothing valid follows it " +
            $"up to the committed end at address {committedUntilAddress} ({committedUntilAddress - damagedAddress} bytes). " +
            $"Those bytes were fsync'd before their commands were acknowledged: every event after sequence {lastGoodSequence} (the last good one) is lost from this log. " +
            "Start-up is stopped. Restore the data directory from a replica or backup; or, to accept the loss, restart with Engine:Recovery:CutDamagedTail=true, " +
            $"which cuts the log at address {damagedAddress}, raises the log epoch from {logEpoch} to {logEpoch + 1} and re-uses sequences from {lastGoodSequence + 1} " +
            "(replicas and subscribers that saw the lost events stop on the new epoch and must be rebuilt).")
    {
        DamagedAddress = damagedAddress;
        CommittedUntilAddress = committedUntilAddress;
        LastGoodSequence = lastGoodSequence;
        LogEpoch = logEpoch;
    }

    /// <summary>The first record that fails verification.</summary>
    public long DamagedAddress { get; }

    /// <summary>The committed end of the log: everything in [<see cref="DamagedAddress"/>, this) is damaged.</summary>
    public long CommittedUntilAddress { get; }

    /// <summary>The sequence of the last event that verifies; the lost events follow it.</summary>
    public long LastGoodSequence { get; }

    /// <summary>The journal's log epoch (a cut would raise it by one).</summary>
    public long LogEpoch { get; }
}
