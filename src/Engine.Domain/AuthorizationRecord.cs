namespace Engine.Domain;

/// <summary>
/// How the ledger stores one authorization: a struct in <see cref="AuthorizationStore"/>'s chunked slot arrays, not
/// an object per authorization. Every authorization lives for its hold's lifetime and then its retention, so as
/// objects each one survived gen0 and gen1 and was copied twice by the GC (≈ 370 ns per Authorize measured).
/// </summary>
internal struct AuthorizationRecord
{
    /// <summary>The request id of the Authorize that created it; null while the slot is free.</summary>
    public string? Id;
    /// <summary><see cref="Fingerprints.IdKey"/> of <see cref="Id"/> (= the creating request's key): the store's index key.</summary>
    public UInt128 Key;
    /// <summary>When the Authorize was approved (its event sequence): breaks expiry ties deterministically.</summary>
    public long CreatedSequence;
    /// <summary>Authorized amount including increments: the base for over-capture tolerance.</summary>
    public long AuthorizedMinor;
    /// <summary>What this authorization still holds against the account.</summary>
    public long HeldMinor;
    public long CapturedMinor;
    public long RefundedMinor;
    /// <summary>
    /// Released by partial or full voids (reversals). What may still be captured is measured from
    /// <see cref="AuthorizedMinor"/> − this, so an authorization of 300 reversed by 250 tolerates captures of 50 (plus
    /// the over-capture percentage of 50), not of 300. Expiry is not a reversal: a late capture of an expired
    /// authorization is measured against what was authorized.
    /// </summary>
    public long ReversedMinor;
    public long ExpiresAtUnixMs;
    /// <summary>When it left <see cref="AuthorizationState.Open"/>; drives retention.</summary>
    public long ClosedAtUnixMs;
    public int AccountIndex;
    /// <summary>Position in the expiry heap while open, -1 otherwise. Owned by <see cref="ExpiryHeap"/>.</summary>
    public int HeapIndex;
    /// <summary>The next free slot while this one is free (-1 ends the list). Owned by <see cref="AuthorizationStore"/>.</summary>
    public int NextFreeSlot;
    public AuthorizationState State;
}
