namespace Engine.Domain;

/// <summary>
/// A read-only view of one authorization and its hold, for readers outside the ledger (tests, read models). Its id
/// is the request id of the Authorize that created it. While the ledger knows the authorization the view shows its
/// live state, and the ledger hands out the same view object each time; once the ledger forgets it (past retention)
/// the view keeps the final values. The ledger itself stores authorizations as <see cref="AuthorizationRecord"/> structs.
/// </summary>
public sealed class Authorization
{
    private AuthorizationStore? _store;
    private readonly int _slot;
    private AuthorizationRecord _final;

    internal Authorization(AuthorizationStore store, int slot)
    {
        _store = store;
        _slot = slot;
        ref readonly AuthorizationRecord record = ref store.At(slot);
        Id = record.Id!;
        AccountIndex = record.AccountIndex;
        CreatedSequence = record.CreatedSequence;
    }

    public string Id { get; }
    public int AccountIndex { get; }
    /// <summary>When the Authorize was approved (its event sequence): breaks expiry ties deterministically.</summary>
    public long CreatedSequence { get; }
    /// <summary>Authorized amount including increments: the base for over-capture tolerance.</summary>
    public long AuthorizedMinor => Record.AuthorizedMinor;
    /// <summary>What this authorization still holds against the account.</summary>
    public long HeldMinor => Record.HeldMinor;
    public long CapturedMinor => Record.CapturedMinor;
    public long RefundedMinor => Record.RefundedMinor;
    /// <summary>Released by voids (partial reversals included); lowers what may be captured.</summary>
    public long ReversedMinor => Record.ReversedMinor;
    public long ExpiresAtUnixMs => Record.ExpiresAtUnixMs;
    /// <summary>When it left <see cref="AuthorizationState.Open"/>; drives retention.</summary>
    public long ClosedAtUnixMs => Record.ClosedAtUnixMs;
    public AuthorizationState State => Record.State;

    private ref readonly AuthorizationRecord Record => ref _store is null ? ref _final : ref _store.At(_slot);

    /// <summary>The ledger forgot this authorization: keep its final values, stop reading the (reused) slot.</summary>
    internal void Detach(in AuthorizationRecord final)
    {
        _final = final;
        _store = null;
    }
}
