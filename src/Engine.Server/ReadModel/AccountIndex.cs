using Engine.Domain;

namespace Engine.Server.ReadModel;

/// <summary>
/// The read model's per-account indexes: where its events sit in the journal, and its authorizations in creation
/// order. Authorizations are the ledger's own objects (read under the read model's lock); ones the ledger has
/// forgotten (past the closed-authorization retention) are pruned when the list would otherwise grow.
/// </summary>
internal sealed class AccountIndex
{
    private readonly List<Authorization> _authorizations = [];

    public EventLocations Events { get; } = new();

    public void AddAuthorization(Authorization authorization, Ledger ledger)
    {
        // Amortised O(1): prune only when the list is about to reallocate.
        if (_authorizations.Count >= 16 && _authorizations.Count == _authorizations.Capacity)
            _authorizations.RemoveAll(known => !IsRetained(known, ledger));
        _authorizations.Add(authorization);
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
            if (IsRetained(_authorizations[i], ledger)) yield return _authorizations[i];
        }
    }

    private static bool IsRetained(Authorization authorization, Ledger ledger) =>
        ledger.TryGetAuthorization(authorization.Id, out Authorization? current) && ReferenceEquals(current, authorization);
}
