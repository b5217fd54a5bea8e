namespace Engine.Domain;

/// <summary>Receives each event the ledger decides, right after it was applied, in sequence order.</summary>
public interface IEventSink
{
    void OnEvent(in LedgerEvent ledgerEvent);
}
