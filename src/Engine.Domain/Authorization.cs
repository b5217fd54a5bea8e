namespace Engine.Domain;

/// <summary>An authorization and its hold. Its id is the request id of the Authorize that created it.</summary>
public sealed class Authorization
{
    public required string Id { get; init; }
    public required int AccountIndex { get; init; }
    /// <summary>When the Authorize was approved (its event sequence): breaks expiry ties deterministically.</summary>
    public required long CreatedSequence { get; init; }
    /// <summary>Authorized amount including increments: the base for over-capture tolerance.</summary>
    public long AuthorizedMinor;
    /// <summary>What this authorization still holds against the account.</summary>
    public long HeldMinor;
    public long CapturedMinor;
    public long RefundedMinor;
    public long ExpiresAtUnixMs;
    /// <summary>When it left <see cref="AuthorizationState.Open"/>; drives retention.</summary>
    public long ClosedAtUnixMs;
    public AuthorizationState State;
    /// <summary>Position in the expiry heap while open, -1 otherwise. Owned by <see cref="ExpiryHeap"/>.</summary>
    internal int HeapIndex = -1;
}
