namespace Engine.Server.Security;

/// <summary>
/// Settings of section <c>Access</c> other than the principals themselves (which <see cref="PrincipalSet"/> reads):
/// the key file and how often it is checked for changes. README "Access control".
/// </summary>
public sealed class AccessOptions
{
    public const string SectionName = "Access";

    /// <summary>A JSON file <c>{"Principals": {"&lt;name&gt;": {"Roles": [...], "KeyHashes": [...]}}}</c>, re-read when it changes (no restart). Empty = none.</summary>
    public string KeyFile { get; set; } = "";
    /// <summary>How often the key file is checked for changes, ms. A rotated key takes effect within this.</summary>
    public int KeyFileReloadIntervalMs { get; set; } = 1_000;

    private static readonly HashSet<string> KnownSettings = new(StringComparer.OrdinalIgnoreCase) { "Principals", nameof(KeyFile), nameof(KeyFileReloadIntervalMs) };

    public static AccessOptions Read(IConfiguration configuration)
    {
        IConfigurationSection section = configuration.GetSection(SectionName);
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!KnownSettings.Contains(child.Key))
                throw new ArgumentException($"{SectionName}:{child.Key}: unknown setting; section Access has {string.Join(", ", KnownSettings)}");
        }
        var options = new AccessOptions();
        section.Bind(options);
        if (options.KeyFileReloadIntervalMs is < 50 or > 3_600_000) throw new ArgumentException("Access:KeyFileReloadIntervalMs must be 50..3,600,000");
        return options;
    }
}
