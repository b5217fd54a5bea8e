using System.Runtime.InteropServices;

namespace Engine.Ring;

/// <summary>
/// A cache-line padded 64-bit counter: the ring's cursor, a stage's progress, a gating point.
/// Exactly one thread writes most sequences (a stage writes its own), many threads read them, so each
/// one lives alone on its cache lines; see the layout comment for the false sharing it prevents.
/// </summary>
/// <remarks>
/// Explicit layout because the runtime may reorder the fields of an auto-layout class, which would
/// defeat hand-written padding fields. The value sits <see cref="PaddingBytes"/> after the start of the
/// fields and is followed by <see cref="PaddingBytes"/> more (ending in a dummy field, see below). 120 bytes on each side (rather than 56)
/// also keeps the value clear of the adjacent-line prefetcher, which pulls cache lines in 128-byte
/// pairs on Intel parts. Without the padding, a producer bumping the cursor and a consumer bumping its
/// own sequence would keep stealing the same line from each other (false sharing) even though they
/// never touch the same variable.
/// </remarks>
[StructLayout(LayoutKind.Explicit)]
public sealed class Sequence : ISequence
{
    /// <summary>The value of a sequence before anything has been claimed or processed.</summary>
    public const long InitialValue = -1;

    /// <summary>Bytes of padding on each side of the value (see the type's remarks).</summary>
    private const int PaddingBytes = 120;

    // The only real field. Its neighbours within PaddingBytes on both sides are empty padding, so no
    // other hot variable can share its cache line (false sharing between cores).
    [FieldOffset(PaddingBytes)]
    private long _value;

    // Trailing padding. The runtime ignores StructLayout.Size on classes (it sizes the object to its last
    // field), so without a real field here the next object on the heap would start right after _value and
    // its hot fields could share _value's cache line (false sharing). Never read or written.
#pragma warning disable CS0169 // The field is never used: it exists only to occupy space.
    [FieldOffset(PaddingBytes + sizeof(long) + PaddingBytes - sizeof(long))]
    private long _trailingPadding;
#pragma warning restore CS0169

    /// <summary>Creates a sequence holding <paramref name="initial"/>.</summary>
    public Sequence(long initial = InitialValue)
    {
        // A plain write is enough here: the object is published to other threads by whatever hands
        // them the reference (a constructor, a volatile field, thread start), which is a release.
        _value = initial;
    }

    /// <summary>
    /// The current value. Acquire read: a reader that sees value N also sees every write the writer
    /// made before it released N (for example, the slot contents of sequence N).
    /// </summary>
    public long Value
    {
        // Volatile.Read (acquire) prevents the race where a consumer sees the new sequence but then
        // reads stale slot data that the producer wrote before publishing it.
        get => Volatile.Read(ref _value);
    }

    /// <summary>
    /// Stores <paramref name="value"/> with release semantics: every write made before this call is
    /// visible to a thread that reads the new value.
    /// </summary>
    public void SetValue(long value)
    {
        // Volatile.Write (release) prevents the race where a reader sees the new sequence before the
        // writes it covers (slot contents, a stage's stamp in the slot) have become visible.
        Volatile.Write(ref _value, value);
    }

    /// <summary>Atomically sets the value to <paramref name="next"/> if it is <paramref name="expected"/>.</summary>
    /// <returns><see langword="true"/> if the swap happened.</returns>
    public bool CompareAndSet(long expected, long next)
    {
        // Interlocked (full fence, atomic read-modify-write) prevents two producers from claiming the
        // same slots: only one CAS from a given expected value can win.
        return Interlocked.CompareExchange(ref _value, next, expected) == expected;
    }

    /// <summary>Atomically adds <paramref name="delta"/> and returns the new value.</summary>
    public long AddAndGet(long delta)
    {
        // Interlocked.Add prevents lost updates when several threads add concurrently.
        return Interlocked.Add(ref _value, delta);
    }

    /// <summary>Atomically adds one and returns the new value.</summary>
    public long IncrementAndGet() => AddAndGet(1);

    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
