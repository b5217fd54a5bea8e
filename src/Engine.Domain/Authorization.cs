namespace Engine.Domain;

/// <summary>
/// A read-only copy of one authorization and its hold, for readers outside the ledger (tests, read models), taken
/// when it was looked up: later commands do not change it. Its id is the request id of the Authorize that created it.
/// The ledger itself stores authorizations as <see cref="AuthorizationRecord"/> structs.
/// <para>
/// A copy, not a live view, so that looking an authorization up writes nothing: read models answer queries from
/// many threads at once under a shared read lock, and a lookup that cached a view per slot (as this type once did)
/// raced on that cache (issue 9: "An item with the same key has already been added" under concurrent
/// ListAuthorizations).
/// </para>
/// </summary>
public sealed class Authorization
{
    private readonly AuthorizationRecord _record;

    internal Authorization(in AuthorizationRecord record)
    {
        _record = record;
        Id = record.Id!;
    }

    public string Id { get; }
    public int AccountIndex => _record.AccountIndex;
    /// <summary>When the Authorize was approved (its event sequence): breaks expiry ties deterministically.</summary>
    public long CreatedSequence => _record.CreatedSequence;
    /// <summary>Authorized amount including increments: the base for over-capture tolerance.</summary>
    public long AuthorizedMinor => _record.AuthorizedMinor;
    /// <summary>What this authorization still holds against the account.</summary>
    public long HeldMinor => _record.HeldMinor;
    public long CapturedMinor => _record.CapturedMinor;
    public long RefundedMinor => _record.RefundedMinor;
    /// <summary>Released by voids (partial reversals included); lowers what may be captured.</summary>
    public long ReversedMinor => _record.ReversedMinor;
    public long ExpiresAtUnixMs => _record.ExpiresAtUnixMs;
    /// <summary>When it left <see cref="AuthorizationState.Open"/>; drives retention.</summary>
    public long ClosedAtUnixMs => _record.ClosedAtUnixMs;
    public AuthorizationState State => _record.State;
}
