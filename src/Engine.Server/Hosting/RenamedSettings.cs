using Microsoft.Extensions.Configuration;

namespace Engine.Server.Hosting;

/// <summary>
/// Settings whose names changed (limits now carry their qualifier last: <c>AccountsMax</c>, not <c>MaxAccounts</c>).
/// Configuration binding ignores keys it does not know, so an old name would silently fall back to the default
/// limit; instead the server refuses to start and names the new key.
/// </summary>
internal static class RenamedSettings
{
    private static readonly (string Old, string New)[] Renames =
    [
        ("Engine:Ledger:MaxAccounts", "Engine:Ledger:AccountsMax"),
        ("Engine:Ledger:MaxExpirationsPerTick", "Engine:Ledger:ExpirationsPerTickMax"),
        ("Engine:Ledger:MaxOpenAuthorizationsPerAccount", "Engine:Ledger:OpenAuthorizationsPerAccountMax"),
        ("Engine:Ledger:ClosedAuthorizationMaxEntries", "Engine:Ledger:ClosedAuthorizationsMax"),
    ];

    /// <summary>Throws naming every old key present and the key that replaces it.</summary>
    public static void RefuseOldNames(IConfiguration configuration)
    {
        string[] found = [.. Renames.Where(r => configuration[r.Old] is not null).Select(r => $"'{r.Old}' is now '{r.New}'")];
        if (found.Length > 0)
            throw new InvalidOperationException("renamed settings: " + string.Join("; ", found) + ". Use the new names; the old ones would be ignored.");
    }
}
