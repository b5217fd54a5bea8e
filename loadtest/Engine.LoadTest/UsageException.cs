namespace Engine.LoadTest;

/// <summary>Bad command-line usage: the message names the flag. The tool prints it and exits 2.</summary>
public sealed class UsageException(string flag, string message) : Exception(message)
{
    /// <summary>The flag at fault, with its dashes, e.g. <c>--rate</c>.</summary>
    public string Flag { get; } = flag;
}
