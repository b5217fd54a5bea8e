namespace Engine.Domain;

/// <summary>
/// The answer to a command, as docs/SPEC.md describes it: the status and its ISO 8583 code, the account's
/// balances right after the decision (also on declines, so callers never parse messages), the
/// sequence of the event that recorded it, and whether this is a replay of an earlier reply.
/// </summary>
public struct Reply
{
    public Status Status;
    public long AvailableMinor;
    public long HeldMinor;
    public long PostedMinor;
    /// <summary>The engine sequence of the outcome's event (for a replay: of the original event).</summary>
    public long Sequence;
    /// <summary>True when this reply is the stored reply of an earlier command with the same request id.</summary>
    public bool Replayed;

    public readonly bool Approved => Status == Status.Ok;
    public readonly string ResponseCode => ResponseCodes.For(Status);

    public override readonly string ToString() =>
        $"{Status} ({ResponseCode}) available={AvailableMinor} held={HeldMinor} posted={PostedMinor} seq={Sequence}{(Replayed ? " replayed" : "")}";
}
