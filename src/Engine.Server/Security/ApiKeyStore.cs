using System.Security.Cryptography;

namespace Engine.Server.Security;

/// <summary>
/// The principals in force: those of configuration (<c>Access:Principals</c>) plus those of the key file
/// (<c>Access:KeyFile</c>), which is checked every <c>Access:KeyFileReloadIntervalMs</c> and re-read when its bytes
/// changed (configuration's principals are read again with it). Rotation without downtime: add the new key's hash next to the old one, move the
/// callers to the new key, remove the old hash. A key file that does not parse or validate on reload leaves the
/// previous principals in force (and is logged as an error); at start-up it refuses the start.
/// </summary>
public sealed class ApiKeyStore
{
    private readonly IConfiguration _configuration;
    private byte[] _keyFileDigest = [];
    private byte[] _rejectedDigest = [];
    // Swapped whole by Reload on the reload loop and read by every call: a reference write is atomic, and Volatile
    // makes a call on another core see the new set (and its fully built contents) once it was published.
    private PrincipalSet _current = PrincipalSet.Empty;

    /// <summary>Reads configuration and the key file; throws <see cref="ArgumentException"/> naming the bad setting.</summary>
    public ApiKeyStore(IConfiguration configuration)
    {
        _configuration = configuration;
        Options = AccessOptions.Read(configuration);
        if (Options.KeyFile.Length > 0 && !File.Exists(Options.KeyFile))
            throw new ArgumentException($"Access:KeyFile: '{Options.KeyFile}' does not exist");
        byte[] bytes = Options.KeyFile.Length > 0 ? File.ReadAllBytes(Options.KeyFile) : [];
        Volatile.Write(ref _current, Build(bytes));
        _keyFileDigest = SHA256.HashData(bytes);
        // Fixed at start: a key file that is emptied later locks everyone out rather than opening the server.
        IsConfigured = Options.KeyFile.Length > 0 || Current.Principals.Count > 0;
    }

    public AccessOptions Options { get; }

    /// <summary>True when any principal or a key file is configured: calls need credentials. False = open mode (loopback only).</summary>
    public bool IsConfigured { get; }

    public PrincipalSet Current => Volatile.Read(ref _current);

    /// <summary>Why the key file's newest content was not loaded (null after a successful load): for the log and tests.</summary>
    public string? LastReloadError { get; private set; }

    /// <summary>
    /// Re-reads the key file if its bytes changed. Returns what happened, for the log: null when nothing changed,
    /// else a sentence. Throws nothing for a bad file: the previous principals stay in force.
    /// </summary>
    public (bool Changed, string? Error) Reload()
    {
        if (Options.KeyFile.Length == 0) return (false, null);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Options.KeyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (false, $"cannot read {Options.KeyFile}: {e.Message}");
        }
        byte[] digest = SHA256.HashData(bytes);
        if (digest.AsSpan().SequenceEqual(_keyFileDigest)) return (false, null);
        try
        {
            PrincipalSet next = Build(bytes);
            Volatile.Write(ref _current, next);
            _keyFileDigest = digest;
            LastReloadError = null;
            return (true, null);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            // Report a bad file once, not on every check; a file being written may be read half-done, and the next
            // check reads it whole.
            if (digest.AsSpan().SequenceEqual(_rejectedDigest)) return (false, null);
            _rejectedDigest = digest;
            LastReloadError = $"{Options.KeyFile} was not loaded, the previous keys stay in force: {e.Message}";
            return (false, LastReloadError);
        }
    }

    private PrincipalSet Build(byte[] keyFile)
    {
        var sources = new List<(IConfigurationSection, string)> { (_configuration.GetSection("Access:Principals"), "Access:Principals") };
        if (keyFile.Length > 0)
        {
            IConfiguration file = ReadKeyFile(keyFile);
            foreach (IConfigurationSection child in file.GetChildren())
            {
                if (!string.Equals(child.Key, "Principals", StringComparison.OrdinalIgnoreCase))
                    throw new ArgumentException($"Access:KeyFile ({Options.KeyFile}): unknown top-level setting '{child.Key}'; the file holds {{\"Principals\": {{...}}}}");
            }
            sources.Add((file.GetSection("Principals"), $"Access:KeyFile ({Options.KeyFile}) Principals"));
        }
        return PrincipalSet.Read(sources);
    }

    private IConfiguration ReadKeyFile(byte[] bytes)
    {
        try
        {
            return new ConfigurationBuilder().AddJsonStream(new MemoryStream(bytes)).Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new ArgumentException($"Access:KeyFile ({Options.KeyFile}) is not valid JSON: {e.Message}", e);
        }
    }
}
