using Engine.Domain;

namespace Engine.ReadModel;

/// <summary>
/// The read model's per-account indexes: where its events sit in the journal, and its authorizations in creation
/// order. Authorizations are kept as (id, created sequence) — the id string is the one the ledger already holds —
/// and copied out of the ledger only when a query asks; ones the ledger has forgotten (past the
/// closed-authorization retention) are pruned when the list would otherwise grow.
/// <para>
/// Writers (<see cref="AddAuthorization"/>, <see cref="Events"/>' Add and DropBefore) run on the read model's feeder
/// under its write lock; <see cref="AuthorizationsAfter"/> runs on query threads under the read lock and, like every
/// ledger read it calls, writes nothing.
/// </para>
/// </summary>
internal sealed class AccountIndex
{
    private readonly List<(string Id, long CreatedSequence)> _authorizations = [];
    // The ledger's AuthorizationsForgotten when this list was last pruned: while it has not moved, nothing here can go.
    private long _forgottenAtLastPrune;

    public EventLocations Events { get; } = new();

    public void AddAuthorization(string authorizationId, long createdSequence, Ledger ledger)
    {
        // Amortised O(1): prune only when the list is about to reallocate and the ledger has forgotten something since
        // the last prune; a prune that frees less than a quarter makes room to double, so the next one waits as long.
        if (_authorizations.Count >= 16 && _authorizations.Count == _authorizations.Capacity && ledger.AuthorizationsForgotten != _forgottenAtLastPrune)
        {
            _forgottenAtLastPrune = ledger.AuthorizationsForgotten;
            _authorizations.RemoveAll(known => !ledger.HoldsAuthorization(known.Id, known.CreatedSequence));
            if (_authorizations.Count > _authorizations.Capacity / 4 * 3) _authorizations.Capacity *= 2;
        }
        _authorizations.Add((authorizationId, createdSequence));
    }

    /// <summary>Authorizations created after <paramref name="afterCreatedSequence"/>, oldest first, that the ledger still knows.</summary>
    public IEnumerable<Authorization> AuthorizationsAfter(long afterCreatedSequence, Ledger ledger)
    {
        int low = 0, high = _authorizations.Count;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (_authorizations[middle].CreatedSequence <= afterCreatedSequence) low = middle + 1;
            else high = middle;
        }
        for (int i = low; i < _authorizations.Count; i++)
        {
            (string id, long created) = _authorizations[i];
            // The id may have been forgotten and reused by a newer authorization: only the one created here belongs here.
            if (ledger.TryGetAuthorization(id, out Authorization? authorization) && authorization.CreatedSequence == created) yield return authorization;
        }
    }
}
