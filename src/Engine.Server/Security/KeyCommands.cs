namespace Engine.Server.Security;

/// <summary>
/// Command-line helpers that run instead of the server: <c>hash-key &lt;key&gt;</c> (or <c>hash-key -</c> to read the
/// key from standard input, keeping it out of shell history) prints the hash to store; <c>new-key</c> prints a new
/// random key and its hash.
/// </summary>
public static class KeyCommands
{
    /// <summary>Runs the command in <paramref name="args"/>; null when <paramref name="args"/> is no key command (start the server).</summary>
    public static int? TryRun(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        switch (args)
        {
            case ["hash-key", string key]:
                string read = key == "-" ? (input.ReadLine() ?? "") : key;
                if (read.Length == 0)
                {
                    error.WriteLine("hash-key: the key is empty");
                    return 2;
                }
                output.WriteLine(ApiKeyHash.Of(read));
                return 0;
            case ["hash-key", ..]:
                error.WriteLine("usage: Engine.Server hash-key <key>   (or hash-key - to read it from standard input)");
                return 2;
            case ["new-key"]:
                string created = ApiKeyHash.NewKey();
                output.WriteLine($"key:  {created}");
                output.WriteLine($"hash: {ApiKeyHash.Of(created)}");
                return 0;
            default:
                return null;
        }
    }
}
