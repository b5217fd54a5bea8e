using System.Globalization;

namespace Engine.LoadTest;

/// <summary>The commands a run sends.</summary>
public enum CommandKind
{
    Authorize,
    Capture,
    Void,
    Repay,
    ForcePost,
    Refund,
}

/// <summary>
/// Weights of each <see cref="CommandKind"/>, from <c>--mix authorize=70,capture=15,void=10,repay=5</c>.
/// Capture and void act on authorizations the run got approved; with none open they become authorizations.
/// </summary>
public sealed class WorkloadMix
{
    public static readonly IReadOnlyDictionary<string, CommandKind> Names = new Dictionary<string, CommandKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["authorize"] = CommandKind.Authorize,
        ["capture"] = CommandKind.Capture,
        ["void"] = CommandKind.Void,
        ["repay"] = CommandKind.Repay,
        ["force_post"] = CommandKind.ForcePost,
        ["refund"] = CommandKind.Refund,
    };

    public static readonly WorkloadMix Default = Parse("authorize=70,capture=15,void=10,repay=5");

    private readonly int[] _weights;
    private readonly int[] _cumulative;

    private WorkloadMix(int[] weights)
    {
        _weights = weights;
        _cumulative = new int[weights.Length];
        int sum = 0;
        for (int k = 0; k < weights.Length; k++) _cumulative[k] = sum += weights[k];
        Total = sum;
    }

    /// <summary>Sum of the weights (the roll is uniform in 0..Total-1).</summary>
    public int Total { get; }

    public int Weight(CommandKind kind) => _weights[(int)kind];

    /// <summary>The kind a roll in 0..<see cref="Total"/>-1 falls on.</summary>
    public CommandKind KindOf(int roll)
    {
        for (int k = 0; k < _cumulative.Length; k++)
        {
            if (roll < _cumulative[k]) return (CommandKind)k;
        }
        throw new ArgumentOutOfRangeException(nameof(roll));
    }

    /// <exception cref="UsageException">The text is not <c>name=weight,...</c> with known names and weights 0..1,000,000 summing above 0.</exception>
    public static WorkloadMix Parse(string text)
    {
        var weights = new int[Enum.GetValues<CommandKind>().Length];
        var seen = new HashSet<CommandKind>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] pair = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (pair.Length != 2 || !Names.TryGetValue(pair[0], out CommandKind kind))
                throw new UsageException("--mix", $"--mix: '{part}' is not name=weight with name one of {string.Join(", ", Names.Keys)}");
            if (!int.TryParse(pair[1], NumberStyles.None, CultureInfo.InvariantCulture, out int weight) || weight > 1_000_000)
                throw new UsageException("--mix", $"--mix: weight '{pair[1]}' of {pair[0]} must be a whole number 0..1,000,000");
            if (!seen.Add(kind)) throw new UsageException("--mix", $"--mix: {pair[0]} is given twice");
            weights[(int)kind] = weight;
        }
        if (weights.Sum() == 0) throw new UsageException("--mix", "--mix: the weights must add up to more than 0");
        return new WorkloadMix(weights);
    }

    public override string ToString() =>
        string.Join(",", Names.Where(n => _weights[(int)n.Value] > 0).Select(n => $"{n.Key}={_weights[(int)n.Value]}"));
}
