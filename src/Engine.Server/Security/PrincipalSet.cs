using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Engine.Server.Security;

/// <summary>
/// One immutable generation of the known principals and their credentials, read from configuration
/// (<c>Access:Principals</c>) and the key file. <see cref="ApiKeyStore"/> swaps whole generations on reload, so a
/// call sees either the old set or the new one, never half of each.
/// <para>
/// Shape, under <c>Principals:&lt;name&gt;</c> in either source: <c>Roles</c>, <c>KeyHashes</c> (SHA-256 hex, see
/// <see cref="ApiKeyHash"/>), <c>CertificateThumbprints</c> (SHA-256 of the client certificate, hex, colons allowed),
/// <c>CertificateSubjects</c> (the certificate's subject CN). Each is a list, or one comma-separated string.
/// </para>
/// </summary>
public sealed class PrincipalSet
{
    public const int PrincipalNameLengthMax = 64;
    public const int PrincipalsMax = 1_000;
    public const int CredentialsPerPrincipalMax = 100;

    private static readonly string[] Fields = ["Roles", "KeyHashes", "CertificateThumbprints", "CertificateSubjects"];

    private readonly (byte[] Hash, AccessPrincipal Principal)[] _keys;
    private readonly Dictionary<string, AccessPrincipal> _byThumbprint;
    private readonly Dictionary<string, AccessPrincipal> _bySubject;

    private PrincipalSet(List<AccessPrincipal> principals, List<(byte[], AccessPrincipal)> keys,
        Dictionary<string, AccessPrincipal> byThumbprint, Dictionary<string, AccessPrincipal> bySubject)
    {
        Principals = principals;
        _keys = [.. keys];
        _byThumbprint = byThumbprint;
        _bySubject = bySubject;
    }

    public static readonly PrincipalSet Empty = new([], [], [], []);

    public IReadOnlyList<AccessPrincipal> Principals { get; }
    public int KeyCount => _keys.Length;
    public int CertificateMappingCount => _byThumbprint.Count + _bySubject.Count;

    /// <summary>
    /// The principal holding <paramref name="key"/>, or null. Every stored hash is compared, in constant time and
    /// without stopping at a match, so the time taken says nothing about which hash (or how much of one) matched.
    /// </summary>
    public AccessPrincipal? FindByKey(ReadOnlySpan<char> key)
    {
        byte[] presented = ApiKeyHash.BytesOf(key);
        AccessPrincipal? found = null;
        foreach ((byte[] hash, AccessPrincipal principal) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, presented)) found = principal;
        }
        return found;
    }

    /// <summary>The principal a (TLS-validated) client certificate maps to, by SHA-256 thumbprint first, then by subject CN.</summary>
    public AccessPrincipal? FindByCertificate(X509Certificate2 certificate)
    {
        if (_byThumbprint.TryGetValue(certificate.GetCertHashString(HashAlgorithmName.SHA256), out AccessPrincipal? byThumbprint)) return byThumbprint;
        string commonName = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return _bySubject.GetValueOrDefault(commonName);
    }

    /// <summary>Reads and validates every source; throws <see cref="ArgumentException"/> naming the offending setting.</summary>
    /// <param name="sources">Each source's <c>Principals</c> section and how errors name it (e.g. <c>Access:Principals</c>).</param>
    public static PrincipalSet Read(IEnumerable<(IConfigurationSection Principals, string Where)> sources)
    {
        var principals = new List<AccessPrincipal>();
        var keys = new List<(byte[], AccessPrincipal)>();
        var byThumbprint = new Dictionary<string, AccessPrincipal>(StringComparer.Ordinal);
        var bySubject = new Dictionary<string, AccessPrincipal>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        foreach ((IConfigurationSection section, string where) in sources)
        {
            foreach (IConfigurationSection entry in section.GetChildren())
            {
                string name = entry.Key;
                string path = $"{where}:{name}";
                if (name.Length is 0 or > PrincipalNameLengthMax || !name.All(IsNameCharacter))
                    throw new ArgumentException($"{path}: a principal name is 1..{PrincipalNameLengthMax} characters of A-Z a-z 0-9 . _ @ -");
                if (!names.Add(name)) throw new ArgumentException($"{path}: principal '{name}' is defined twice (names are case-insensitive; configuration and key file share them)");
                if (names.Count > PrincipalsMax) throw new ArgumentException($"{where}: at most {PrincipalsMax} principals");
                foreach (IConfigurationSection field in entry.GetChildren())
                {
                    if (!Fields.Contains(field.Key, StringComparer.OrdinalIgnoreCase))
                        throw new ArgumentException($"{path}:{field.Key}: unknown setting; a principal has {string.Join(", ", Fields)}");
                }

                string[] roles = List(entry, "Roles", path);
                if (roles.Length == 0) throw new ArgumentException($"{path}:Roles: a principal needs at least one role ({string.Join(", ", AccessRoles.All)})");
                foreach (string role in roles)
                {
                    if (!AccessRoles.IsKnown(role)) throw new ArgumentException($"{path}:Roles: unknown role '{role}'; roles are {string.Join(", ", AccessRoles.All)}");
                }
                var principal = new AccessPrincipal(name, [.. roles.Distinct(StringComparer.Ordinal)]);

                string[] keyHashes = List(entry, "KeyHashes", path);
                string[] thumbprints = List(entry, "CertificateThumbprints", path);
                string[] subjects = List(entry, "CertificateSubjects", path);
                if (keyHashes.Length + thumbprints.Length + subjects.Length == 0)
                    throw new ArgumentException($"{path}: principal '{name}' has no credential (KeyHashes, CertificateThumbprints or CertificateSubjects)");
                foreach (string text in keyHashes)
                {
                    string normalized = text.ToLowerInvariant();
                    if (!ApiKeyHash.TryParse(normalized, out byte[] hash))
                        throw new ArgumentException($"{path}:KeyHashes: '{Shorten(text)}' is not a SHA-256 hash (64 hex digits); store the key's hash, never the key: "
                            + "`dotnet run --project src/Engine.Server -- hash-key <key>` or `printf %s \"$KEY\" | sha256sum`");
                    if (!hashes.Add(normalized)) throw new ArgumentException($"{path}:KeyHashes: the same key is given to two principals or twice");
                    keys.Add((hash, principal));
                }
                foreach (string text in thumbprints)
                {
                    string normalized = text.Replace(":", "", StringComparison.Ordinal).ToUpperInvariant();
                    if (normalized.Length != 64 || !normalized.All(Uri.IsHexDigit))
                        throw new ArgumentException($"{path}:CertificateThumbprints: '{Shorten(text)}' is not a SHA-256 thumbprint (64 hex digits, e.g. from `openssl x509 -noout -fingerprint -sha256`)");
                    if (!byThumbprint.TryAdd(normalized, principal)) throw new ArgumentException($"{path}:CertificateThumbprints: {normalized} is mapped twice");
                }
                foreach (string subject in subjects)
                {
                    if (!bySubject.TryAdd(subject, principal)) throw new ArgumentException($"{path}:CertificateSubjects: '{subject}' is mapped twice");
                }
                principals.Add(principal);
            }
        }
        return new PrincipalSet(principals, keys, byThumbprint, bySubject);
    }

    /// <summary>A list setting: children <c>Field:0</c>, <c>Field:1</c>, … or one comma-separated value <c>Field=a,b</c>.</summary>
    private static string[] List(IConfigurationSection entry, string field, string path)
    {
        IConfigurationSection section = entry.GetSection(field); // configuration keys are case-insensitive
        IEnumerable<string?> values = section.Value is { } single ? single.Split(',') : section.GetChildren().Select(c => c.Value);
        string[] list = [.. values.Select(v => v?.Trim() ?? "").Where(v => v.Length > 0)];
        if (list.Length > CredentialsPerPrincipalMax) throw new ArgumentException($"{path}:{field}: at most {CredentialsPerPrincipalMax} entries");
        return list;
    }

    private static bool IsNameCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '@' or '-';

    // A value that is not a hash may be a plain key pasted by mistake: never echo it whole.
    private static string Shorten(string text) => text.Length <= 8 ? "…" : text[..4] + "…";
}
