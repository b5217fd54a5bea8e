namespace Engine.Ring;

/// <summary>
/// A read-only view of the minimum of several sequences: a stage that depends on more than one
/// upstream stage may only process a slot once all of them have.
/// </summary>
public sealed class SequenceGroup : ISequence
{
    private readonly Sequence[] _sequences;

    /// <summary>Creates a view over <paramref name="sequences"/> (at least one; the array is copied).</summary>
    public SequenceGroup(params Sequence[] sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Length == 0)
        {
            throw new ArgumentException("a sequence group needs at least one sequence", nameof(sequences));
        }

        _sequences = (Sequence[])sequences.Clone();
    }

    /// <summary>The smallest value among the sequences of the group.</summary>
    public long Value => Minimum(_sequences, long.MaxValue);

    /// <summary>
    /// The smallest value among <paramref name="sequences"/>, or <paramref name="minimum"/> if that is
    /// smaller (or the array is empty).
    /// </summary>
    internal static long Minimum(Sequence[] sequences, long minimum)
    {
        // Each Sequence.Value is an acquire read, so the minimum is a value every sequence in the group
        // has reached at some instant during the scan; sequences only grow, so it stays a safe bound.
        for (int i = 0; i < sequences.Length; i++)
        {
            long value = sequences[i].Value;
            if (value < minimum)
            {
                minimum = value;
            }
        }

        return minimum;
    }
}
