using System.Runtime.CompilerServices;

namespace Engine.Domain;

/// <summary>
/// Makes the memory of a ledger's pre-sized tables resident on a background thread, so that the thread filling them
/// (recovery's snapshot load and replay, or the decide thread) takes fewer page faults itself. A fresh large array is
/// mapped lazily: the first write to each 4 KiB page costs a fault and the kernel zeroing the page, which was 43 % of
/// a 1M-account recovery's samples, all on the one recovering thread while the other core idled (bench/RESULTS.md
/// "Recovery").
/// <para>Each page is faulted in by an atomic compare-and-swap of 0 with 0 on one 8-byte field of one element in it:
/// the value never changes (a field another thread has already written keeps its value, and that thread's later
/// write wins), so it is safe on memory another thread is filling. The field is one that holds no reference. A page
/// fault takes only the memory area's own lock; <c>madvise(MADV_POPULATE_WRITE)</c> was tried first and held the
/// process-wide mmap lock, which the filling thread's collector needs for every commit (mprotect) and decommit
/// (madvise): the filling thread then waited most of the time.</para>
/// </summary>
internal static class PagePrefault
{
    /// <summary>Below this the faults cost milliseconds and a thread is not worth starting.</summary>
    internal const long MinBytes = 64L << 20;
    // The regions are advanced in turn, each by this much, so every table fills from its start.
    private const long StepBytes = 2L << 20;
    private const int PageBytes = 4096;

    /// <summary>One array to make resident, and how to touch a page of it.</summary>
    internal abstract class Region
    {
        public abstract long Bytes { get; }
        /// <summary>Faults in the pages of bytes [<paramref name="from"/>, <paramref name="to"/>) of the data.</summary>
        public abstract void Touch(long from, long to);

        /// <summary>
        /// A region over <paramref name="array"/>, touched through the 8-byte field <paramref name="fieldOffset"/>
        /// bytes into an element (see <see cref="OffsetOf{T}"/>); null for the first 8 bytes of a struct that holds no
        /// reference.
        /// </summary>
        public static Region Of<T>(T[] array, int? fieldOffset = null) where T : struct
        {
            if (fieldOffset is null && RuntimeHelpers.IsReferenceOrContainsReferences<T>())
                throw new ArgumentException($"{typeof(T).Name} holds references: name a field that does not", nameof(fieldOffset));
            return new Region<T>(array, fieldOffset ?? 0);
        }
    }

    /// <summary>The byte offset of <paramref name="field"/> within <paramref name="element"/>.</summary>
    internal static int OffsetOf<T>(ref T element, ref long field) where T : struct =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<T, byte>(ref element), ref Unsafe.As<long, byte>(ref field));

    private sealed class Region<T> : Region where T : struct
    {
        private readonly T[] _array;
        private readonly int _fieldOffset;
        private readonly int _elementBytes = Unsafe.SizeOf<T>();

        public Region(T[] array, int fieldOffset)
        {
            if (fieldOffset < 0 || fieldOffset + sizeof(long) > Unsafe.SizeOf<T>() || fieldOffset % sizeof(long) != 0)
                throw new ArgumentOutOfRangeException(nameof(fieldOffset), fieldOffset, $"not an aligned 8-byte field of {typeof(T).Name}");
            _array = array;
            _fieldOffset = fieldOffset;
        }

        public override long Bytes => _array.LongLength * _elementBytes;

        public override void Touch(long from, long to)
        {
            // Elements at most a page apart: every page of the range holds a touched field.
            long stride = Math.Max(1, PageBytes / _elementBytes);
            for (long i = from / _elementBytes; i < _array.LongLength && i * _elementBytes < to; i += stride)
            {
                ref byte element = ref Unsafe.As<T, byte>(ref _array[i]);
                ref long field = ref Unsafe.As<byte, long>(ref Unsafe.AddByteOffset(ref element, (nint)_fieldOffset));
                Interlocked.CompareExchange(ref field, 0, 0);
            }
        }
    }

    /// <summary>
    /// Starts making <paramref name="regions"/> resident in turns of <see cref="StepBytes"/>, on a background thread;
    /// null (nothing started) below <see cref="MinBytes"/> in all.
    /// </summary>
    internal static Task<long>? Start(IReadOnlyList<Region> regions)
    {
        long total = 0;
        foreach (Region region in regions) total += region.Bytes;
        if (total < MinBytes) return null;
        return Task.Factory.StartNew(() => Populate(regions), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Makes <paramref name="regions"/> resident on this thread.</summary>
    internal static void PopulateNow(IReadOnlyList<Region> regions)
    {
        foreach (Region region in regions) region.Touch(0, region.Bytes);
    }

    /// <summary>Bytes made resident.</summary>
    private static long Populate(IReadOnlyList<Region> regions)
    {
        var done = new long[regions.Count];
        long populated = 0;
        bool progress = true;
        while (progress)
        {
            progress = false;
            for (int i = 0; i < regions.Count; i++)
            {
                long length = regions[i].Bytes;
                if (done[i] >= length) continue;
                long step = Math.Min(StepBytes, length - done[i]);
                regions[i].Touch(done[i], done[i] + step);
                done[i] += step;
                populated += step;
                progress = true;
            }
        }
        return populated;
    }
}
