namespace Desk.Domain;

/// <summary>
/// Every engine command the desk sends carries a request_id derived from the desk record that caused it, so a retry
/// or a crash mid-way resends the same id and the engine applies the decision at most once (it answers replayed).
/// Each id starts with the desk's own id (<see cref="DeskId"/>, generated at first start and stored in the desk's
/// database): desk record ids are unique only within one database, so two desks sharing an engine would otherwise
/// derive the same id for different decisions and the second would be refused as REQUEST_ID_REUSED or, worse,
/// answered with the first desk's reply. Engine ids are 1-64 printable ASCII characters; these stay well inside that
/// (at most 12 + 30 characters).
/// </summary>
public static class RequestIds
{
    /// <summary>Length of a desk id: 12 lower-case hex characters (48 random bits).</summary>
    public const int DeskIdLength = 12;

    /// <summary>A fresh desk id from 6 random bytes supplied by the caller (the domain does no I/O and keeps no randomness).</summary>
    public static string NewDeskId(ReadOnlySpan<byte> random)
    {
        if (random.Length != DeskIdLength / 2) throw new ArgumentException($"random: exactly {DeskIdLength / 2} bytes", nameof(random));
        return Convert.ToHexStringLower(random);
    }

    public static string ValidateDeskId(string deskId) =>
        deskId.Length == DeskIdLength && deskId.All(Uri.IsHexDigit) && deskId == deskId.ToLowerInvariant()
            ? deskId
            : throw new ArgumentException($"desk id: {DeskIdLength} lower-case hex characters, got '{deskId}'", nameof(deskId));

    /// <summary>The write-back of an approved application: {desk}-app-{id}-limit, -temp, -terms.</summary>
    public static string ForApplication(string deskId, long applicationId, ApplicationKind kind) => kind switch
    {
        ApplicationKind.NewLimit or ApplicationKind.LimitChange => $"{ValidateDeskId(deskId)}-app-{applicationId}-limit",
        ApplicationKind.TemporaryLimit => $"{ValidateDeskId(deskId)}-app-{applicationId}-temp",
        ApplicationKind.PaymentTerms => $"{ValidateDeskId(deskId)}-app-{applicationId}-terms",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Opening a customer's main account, keyed by the customer's code so a re-import resends the same id.</summary>
    public static string ForAccountOpening(string deskId, string accountId) => $"{ValidateDeskId(deskId)}-open-{accountId}";

    /// <summary>The main engine account of a customer: its unified social credit code is unique and stable.</summary>
    public static string MainAccountId(string uscc) => $"c-{uscc}";
}
