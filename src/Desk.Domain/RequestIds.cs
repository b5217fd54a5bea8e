namespace Desk.Domain;

/// <summary>
/// Every engine command the desk sends carries a request_id derived from the desk record that caused it, so a retry
/// or a crash mid-way resends the same id and the engine applies the decision at most once (it answers replayed).
/// Engine ids are 1-64 printable ASCII characters; these stay well inside that.
/// </summary>
public static class RequestIds
{
    /// <summary>The write-back of an approved application: app-{id}-limit, app-{id}-temp, app-{id}-terms.</summary>
    public static string ForApplication(long applicationId, ApplicationKind kind) => kind switch
    {
        ApplicationKind.NewLimit or ApplicationKind.LimitChange => $"app-{applicationId}-limit",
        ApplicationKind.TemporaryLimit => $"app-{applicationId}-temp",
        ApplicationKind.PaymentTerms => $"app-{applicationId}-terms",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Opening a customer's main account, keyed by the customer's code so a re-import resends the same id.</summary>
    public static string ForAccountOpening(string accountId) => $"open-{accountId}";

    /// <summary>The main engine account of a customer: its unified social credit code is unique and stable.</summary>
    public static string MainAccountId(string uscc) => $"c-{uscc}";
}
