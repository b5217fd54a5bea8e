using Engine.Ring;

namespace Engine.Ring.Tests;

/// <summary>The padded counter and the minimum view over several.</summary>
public sealed class SequenceTests
{
    [Fact]
    public void A_new_sequence_starts_at_minus_one()
    {
        Assert.Equal(-1, Sequence.InitialValue);
        Assert.Equal(Sequence.InitialValue, new Sequence().Value);
        Assert.Equal(7, new Sequence(7).Value);
    }

    [Fact]
    public void CompareAndSet_swaps_only_from_the_expected_value()
    {
        var sequence = new Sequence(5);
        Assert.False(sequence.CompareAndSet(4, 10));
        Assert.Equal(5, sequence.Value);
        Assert.True(sequence.CompareAndSet(5, 10));
        Assert.Equal(10, sequence.Value);
    }

    [Fact]
    public void AddAndGet_from_many_threads_loses_no_update()
    {
        var sequence = new Sequence(0);
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                sequence.AddAndGet(1);
            }
        });
        Assert.Equal(400_000, sequence.Value);
        Assert.Equal(400_002, sequence.AddAndGet(2));
    }

    [Fact]
    public void A_sequence_occupies_its_cache_lines_alone()
    {
        // The padding only works if the runtime honours the explicit size: 120 + 8 + 120 bytes of fields,
        // plus the object header and method-table pointer.
        const int count = 1000;
        var keep = new Sequence[count];
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++)
        {
            keep[i] = new Sequence();
        }

        long bytesPerSequence = (GC.GetAllocatedBytesForCurrentThread() - before) / count;
        GC.KeepAlive(keep);
        Assert.True(bytesPerSequence >= 248 + 16, $"a Sequence takes {bytesPerSequence} bytes; padding lost");
    }

    [Fact]
    public void A_group_reads_as_the_minimum_of_its_sequences()
    {
        var a = new Sequence(10);
        var b = new Sequence(3);
        var c = new Sequence(7);
        var group = new SequenceGroup(a, b, c);
        Assert.Equal(3, group.Value);
        b.SetValue(20);
        Assert.Equal(7, group.Value);
        Assert.Throws<ArgumentException>(() => new SequenceGroup());
    }
}
