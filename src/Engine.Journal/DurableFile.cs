using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Engine.Journal;

/// <summary>
/// The fsync calls .NET does not offer directly: a data-only flush of a file (fdatasync) and a flush of a
/// directory, which is what makes a newly created or renamed file's name durable on Linux.
/// </summary>
internal static partial class DurableFile
{
    /// <summary>
    /// Makes the data written through <paramref name="handle"/> durable. On Linux this is fdatasync, which skips the
    /// inode timestamp update that fsync would also force (the file's size must not have changed since it was last
    /// fsync'd for that to be enough — callers preallocate). Elsewhere it is a full flush.
    /// </summary>
    public static void FlushData(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            RandomAccess.FlushToDisk(handle);
            return;
        }

        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            int fd = (int)handle.DangerousGetHandle();
            while (fdatasync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                throw new IOException($"fdatasync failed: {new Win32Exception(errno).Message} (errno {errno})", errno);
            }
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>
    /// fsyncs a directory so that file creations, renames and deletions inside it survive power loss.
    /// A no-op on Windows, where NTFS journals names and a directory cannot be flushed this way.
    /// </summary>
    public static void FlushDirectory(string directoryPath)
    {
        if (OperatingSystem.IsWindows()) return;

        int fd = open(directoryPath, OperatingSystem.IsLinux() ? O_RDONLY | O_CLOEXEC : O_RDONLY);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot open directory '{directoryPath}' to fsync it: {new Win32Exception(errno).Message} (errno {errno})", errno);
        }
        try
        {
            while (fsync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                throw new IOException($"fsync of directory '{directoryPath}' failed: {new Win32Exception(errno).Message} (errno {errno})", errno);
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    /// <summary>Creates <paramref name="directoryPath"/> (and parents) and makes the new name durable in its parent.</summary>
    public static void CreateDirectoryDurably(string directoryPath)
    {
        string full = Path.GetFullPath(directoryPath);
        if (Directory.Exists(full)) return;
        string? parent = Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar));
        if (parent is not null) CreateDirectoryDurably(parent);
        Directory.CreateDirectory(full);
        if (parent is not null) FlushDirectory(parent);
    }

    private const int EINTR = 4;
    private const int O_RDONLY = 0;
    private const int O_CLOEXEC = 0x80000; // Linux value, the same on x64 and arm64

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fdatasync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
