using Engine.Journal;

namespace Engine.Core.Tests;

/// <summary>An <see cref="IStorageFaultInjector"/> a test arms and disarms: each armed step throws as its system call would.</summary>
public sealed class StorageFaults : IStorageFaultInjector
{
    public const int EIO = 5;
    public const int ENOSPC = 28;

    private volatile int _commitErrno;
    private volatile int _snapshotErrno;
    private volatile bool _failAppend;
    private int _snapshotFailures;

    /// <summary>Every commit fails with <paramref name="errno"/> from now on (0 disarms).</summary>
    public void FailCommits(int errno) => _commitErrno = errno;

    /// <summary>Every snapshot write fails with <paramref name="errno"/> from now on (0 disarms).</summary>
    public void FailSnapshots(int errno) => _snapshotErrno = errno;

    /// <summary>Every append throws a non-I/O exception, as a bug in the decide stage would.</summary>
    public void FailAppends() => _failAppend = true;

    public int SnapshotFailures => Volatile.Read(ref _snapshotFailures);

    public void BeforeAppend(int payloadBytes)
    {
        if (_failAppend) throw new InvalidOperationException("injected decide-stage failure");
    }

    public void BeforeCommitDurable(long untilAddress)
    {
        int errno = _commitErrno;
        if (errno != 0) throw Injected(errno, $"commit until address {untilAddress}");
    }

    public void BeforeSnapshotWrite(long sequence)
    {
        int errno = _snapshotErrno;
        if (errno == 0) return;
        Interlocked.Increment(ref _snapshotFailures);
        throw Injected(errno, $"snapshot at sequence {sequence}");
    }

    public static string Name(int errno) => errno switch { EIO => "EIO", ENOSPC => "ENOSPC", _ => errno.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private static IOException Injected(int errno, string what) => new($"injected {Name(errno)} on {what}", errno);
}
