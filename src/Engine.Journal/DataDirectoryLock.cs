namespace Engine.Journal;

/// <summary>
/// An exclusive lock on a data directory for the life of the process that holds it: two engines (or two replicas) on
/// one directory would interleave two writers' records in one log and each would recover the other's half-written
/// state. The lock is the OS's advisory whole-file lock on <c>LOCK</c> inside the directory (.NET takes
/// <c>flock(LOCK_EX | LOCK_NB)</c> for <see cref="FileShare.None"/> on Unix), so it is released by the kernel when the
/// process dies, even by <c>kill -9</c>: a crashed engine never leaves a stale lock behind.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    /// <summary>The file that carries the lock (empty).</summary>
    public const string FileName = "LOCK";
    /// <summary>The process id of the last holder, written after taking the lock; for messages and people only.</summary>
    public const string HolderFileName = "LOCK.holder";

    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file) => _file = file;

    /// <summary>
    /// Takes the lock, creating the directory if needed. Throws <see cref="DataDirectoryLockedException"/> naming the
    /// directory (and the holder's process id when it wrote one) when another process, or another engine in this
    /// process, holds it.
    /// </summary>
    public static DataDirectoryLock Acquire(string directory, string whatUsesIt)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, FileName);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            string holder = TryReadHolder(directory);
            throw new DataDirectoryLockedException(
                $"the data directory '{Path.GetFullPath(directory)}' is in use by another {whatUsesIt}{holder}: " +
                "each engine and each replica needs a directory of its own (--Engine:DataDirectory)", e);
        }
        try
        {
            // Beside the lock file, not in it: a reader of the locked file would need the lock itself.
            File.WriteAllText(Path.Combine(directory, HolderFileName), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
        }
        catch (IOException)
        {
            // The holder's id is a courtesy for people and for the refusal message; the lock itself is held either way.
        }
        return new DataDirectoryLock(file);
    }

    private static string TryReadHolder(string directory)
    {
        try
        {
            string text = File.ReadAllText(Path.Combine(directory, HolderFileName)).Trim();
            return text.Length is > 0 and <= 10 && text.All(char.IsAsciiDigit) ? $" (process {text})" : "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Releases the lock (the file stays; the next holder overwrites it).</summary>
    public void Dispose() => _file.Dispose();
}

/// <summary>Another process (or engine) holds the data directory's <see cref="DataDirectoryLock"/>.</summary>
public sealed class DataDirectoryLockedException(string message, Exception inner) : IOException(message, inner);
