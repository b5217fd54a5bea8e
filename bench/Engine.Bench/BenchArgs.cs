using System.Globalization;

namespace Engine.Bench;

/// <summary>Minimal <c>--name value</c> / <c>--flag</c> parser for the harness verbs; unknown options are an error.</summary>
internal sealed class BenchArgs
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public BenchArgs(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{args[i]}'");
            string name = args[i][2..];
            string? value = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
            _values[name] = value;
        }
    }

    public long Long(string name, long fallback)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out string? value) && value is not null ? long.Parse(value, CultureInfo.InvariantCulture) : fallback;
    }

    public int Int(string name, int fallback) => checked((int)Long(name, fallback));

    public string? String(string name)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out string? value) ? value : null;
    }

    public bool Flag(string name)
    {
        _read.Add(name);
        return _values.ContainsKey(name);
    }

    /// <summary>Throws for options nobody asked for: a typo must not silently run the default benchmark.</summary>
    public void RejectUnknown()
    {
        foreach (string name in _values.Keys)
        {
            if (!_read.Contains(name)) throw new ArgumentException($"unknown option --{name}");
        }
    }
}
