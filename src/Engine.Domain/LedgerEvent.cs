namespace Engine.Domain;

/// <summary>
/// One ledger event: the recorded outcome of a command (or of an expiry). The event, not the command,
/// is the unit of truth: <see cref="Ledger.Apply"/> rebuilds state from events alone, using engine time
/// recorded here. Fields an event type does not use stay at their defaults.
/// </summary>
public struct LedgerEvent
{
    /// <summary>Dense engine sequence: 1, 2, 3, … with no gaps.</summary>
    public long Sequence;
    public long TimestampUnixMs;
    public EventType Type;
    /// <summary>The command that produced the event (<see cref="CommandType.Tick"/> for expiries).</summary>
    public CommandType Command;
    public Status Status;
    /// <summary>Empty for engine-generated events (expiries).</summary>
    public string RequestId;
    /// <summary>Fingerprint of the command's payload, for idempotency checks after recovery.</summary>
    public ulong PayloadFingerprint;
    /// <summary>Empty when the command named no account that exists (e.g. a capture of an unknown authorization).</summary>
    public string AccountId;
    public string? AuthorizationId;
    /// <summary>The amount involved: authorized, increased, captured, released, posted, refunded or repaid amount;
    /// the new credit limit (AccountOpened, LimitChanged) or temporary limit (TemporaryLimitSet).</summary>
    public long AmountMinor;
    /// <summary>How much the account's <c>held</c> went down (Captured, Voided, Expired).</summary>
    public long HoldReleasedMinor;
    /// <summary>Authorized: when the hold expires. TemporaryLimitSet: when the temporary limit stops counting.</summary>
    public long ExpiresAtUnixMs;
    /// <summary>Captured / Voided: this event closed the authorization.</summary>
    public bool AuthorizationClosed;
    /// <summary>Capture: the command asked for a final capture.</summary>
    public bool Final;
    public long HeldMinor;
    public long PostedMinor;
    public long AvailableMinor;
    // Type-specific details.
    public string? CustomerId;
    public ushort CurrencyCode;
    public byte OvercapturePercent;
    public string? MerchantId;
    public short Mcc;
    public string? Reason;
    public SpendingControls? Controls;
    /// <summary>Credit lifecycle detail (docs/LIFECYCLE.md); null on events without any.</summary>
    public LifecycleDetail? Lifecycle;
    /// <summary>Account administration (approved or declined): the principal that sent the command; null when none was known.</summary>
    public string? Actor;
    /// <summary>
    /// What the event replaced, so one event answers "from what to what": LimitChanged the credit limit before,
    /// TemporaryLimitSet the temporary limit before; null on other events and on events written before it existed.
    /// </summary>
    public long? PreviousAmountMinor;

    // Keys of the ids above, not encoded: set by Decide live and by Fingerprints.StampKeys at decode time, so Apply
    // hashes no string (on recovery, read models and replicas as on the decide thread).
    public UInt128 RequestKey;
    public UInt128 AccountKey;
    public UInt128 AuthorizationKey;
    /// <summary>The three keys are set (an event built by hand without them is stamped by <see cref="Ledger.Apply(in LedgerEvent)"/>).</summary>
    public bool KeysStamped;
    /// <summary>
    /// Not encoded: the account's index in the deciding ledger plus one (0: not known), so Apply reuses what Decide
    /// found instead of probing the account table again. Apply checks it against <see cref="AccountKey"/> and probes
    /// when they disagree, so an event carried to another ledger (a read model) stays correct.
    /// </summary>
    internal int DecidedAccountIndexPlusOne;

    /// <summary>The reply this event stands for.</summary>
    public readonly Reply ToReply() => new()
    {
        Status = Status,
        AvailableMinor = AvailableMinor,
        HeldMinor = HeldMinor,
        PostedMinor = PostedMinor,
        Sequence = Sequence,
        Replayed = false,
    };

    public override readonly string ToString() =>
        $"#{Sequence} {Type} {Command} {Status} req={RequestId} acct={AccountId} auth={AuthorizationId} amount={AmountMinor} held={HeldMinor} posted={PostedMinor} available={AvailableMinor}";
}
