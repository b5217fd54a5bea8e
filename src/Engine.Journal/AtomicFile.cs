namespace Engine.Journal;

/// <summary>
/// Replaces a small file so that after a crash or power loss it holds either the old or the new content, never a mix
/// or nothing: write <c>name.tmp</c>, fsync it, rename it over the name, fsync the directory (which makes the rename
/// durable on Linux). For state that must survive restarts exactly, such as consumer cursors.
/// </summary>
public static class AtomicFile
{
    public const string TemporarySuffix = ".tmp";

    /// <summary>Durably replaces (or creates) <paramref name="path"/> with <paramref name="content"/>. Returns once it is on stable storage.</summary>
    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no directory", nameof(path));
        string temporary = full + TemporarySuffix;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true); // fsync: the content is durable before the name points at it
        }
        File.Move(temporary, full, overwrite: true);
        DurableFile.FlushDirectory(directory);
    }
}
