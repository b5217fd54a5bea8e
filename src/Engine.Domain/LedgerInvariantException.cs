namespace Engine.Domain;

/// <summary>
/// A ledger invariant failed: the state or the log is not what the code that owns it guarantees.
/// The engine stops rather than serve balances it can no longer vouch for.
/// </summary>
public sealed class LedgerInvariantException(string message) : Exception(message);
