using System.Diagnostics;
using Engine.Ring;

namespace Engine.Ring.Tests;

/// <summary>Claim, publish and capacity rules of the ring, checked on one thread where possible.</summary>
public sealed class RingBufferTests
{
    private static readonly TimeSpan FailureGuard = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(-1024)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(1000)]
    [InlineData(int.MaxValue)]
    public void Buffer_size_must_be_a_positive_power_of_two(int bufferSize)
    {
        Assert.Throws<ArgumentException>(() => new RingBuffer<long>(bufferSize, new BlockingWaitStrategy()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(1024)]
    [InlineData(1 << 16)]
    public void Power_of_two_buffer_sizes_are_accepted(int bufferSize)
    {
        var ring = new RingBuffer<long>(bufferSize, new BlockingWaitStrategy());
        Assert.Equal(bufferSize, ring.BufferSize);
        Assert.Equal(Sequence.InitialValue, ring.Cursor);
        Assert.Equal(bufferSize, ring.RemainingCapacity());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(9)]
    public void Claims_of_zero_or_more_than_the_buffer_size_are_refused(int n)
    {
        var ring = new RingBuffer<long>(8, new BlockingWaitStrategy());
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Next(n));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.TryNext(n, out _));
        Assert.Equal(Sequence.InitialValue, ring.Cursor);
    }

    [Fact]
    public void TryNext_returns_false_at_once_when_full_and_true_again_once_the_last_stage_advances()
    {
        var ring = new RingBuffer<long>(8, new BlockingWaitStrategy());
        var lastStage = new Sequence();
        ring.AddGatingSequences(lastStage);

        for (long expected = 0; expected < 8; expected++)
        {
            Assert.True(ring.TryNext(out long sequence));
            Assert.Equal(expected, sequence);
            ring.Publish(sequence);
        }

        Assert.Equal(0, ring.RemainingCapacity());
        var stopwatch = Stopwatch.StartNew();
        for (int attempt = 0; attempt < 10_000; attempt++)
        {
            Assert.False(ring.TryNext(out _));
            Assert.False(ring.TryNext(2, out _));
        }

        // Refusing must not wait: 20k refusals take microseconds; a second means something waited.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"refusals took {stopwatch.Elapsed}");
        Assert.Equal(7, ring.Cursor);

        lastStage.SetValue(0);
        Assert.Equal(1, ring.RemainingCapacity());
        Assert.False(ring.TryNext(2, out _));
        Assert.True(ring.TryNext(out long next));
        Assert.Equal(8, next);
        Assert.False(ring.TryNext(out _));

        lastStage.SetValue(3);
        Assert.True(ring.TryNext(3, out long high));
        Assert.Equal(11, high);
        Assert.False(ring.TryNext(out _));
    }

    [Fact]
    public void Next_waits_while_full_and_proceeds_once_the_last_stage_advances()
    {
        var ring = new RingBuffer<long>(4, new BlockingWaitStrategy());
        var lastStage = new Sequence();
        ring.AddGatingSequences(lastStage);
        ring.Publish(0, ring.Next(4));

        long claimed = -1;
        long lastStageSeenAfterClaim = -1;
        var producer = new Thread(() =>
        {
            claimed = ring.Next();
            lastStageSeenAfterClaim = lastStage.Value;
        }) { IsBackground = true };
        producer.Start();
        lastStage.SetValue(0);
        Assert.True(producer.Join(FailureGuard), "Next did not return after the last stage advanced");

        // Slot 4 reuses slot 0: the claim is only legal once the last stage has finished sequence 0.
        Assert.Equal(4, claimed);
        Assert.True(claimed - ring.BufferSize <= lastStageSeenAfterClaim, "Next wrapped over a slot still in use");
    }

    [Fact]
    public void A_cancelled_claim_on_a_full_ring_gives_up_and_claims_nothing()
    {
        var ring = new RingBuffer<long>(4, new HybridWaitStrategy());
        ring.AddGatingSequences(new Sequence());
        ring.Publish(0, ring.Next(4));
        using var cancellation = new CancellationTokenSource();

        Exception? thrown = null;
        var producer = new Thread(() =>
        {
            try
            {
                ring.Next(cancellation.Token);
            }
            catch (OperationCanceledException exception)
            {
                thrown = exception;
            }
        }) { IsBackground = true };
        producer.Start();
        cancellation.Cancel();

        Assert.True(producer.Join(FailureGuard), "a cancelled claim kept waiting");
        Assert.IsType<OperationCanceledException>(thrown);
        Assert.Equal(3, ring.Cursor);
        Assert.Throws<OperationCanceledException>(() => ring.Next(2, cancellation.Token));
    }

    [Fact]
    public void Producers_never_wrap_past_the_slowest_gating_sequence()
    {
        var ring = new RingBuffer<long>(4, new BlockingWaitStrategy());
        var fast = new Sequence();
        var slow = new Sequence();
        ring.AddGatingSequences(fast, slow);
        ring.Publish(0, ring.Next(4));

        fast.SetValue(3);
        Assert.False(ring.TryNext(out _));
        Assert.Equal(0, ring.RemainingCapacity());

        slow.SetValue(1);
        Assert.Equal(2, ring.RemainingCapacity());
        Assert.True(ring.TryNext(2, out long high));
        Assert.Equal(5, high);
        Assert.False(ring.TryNext(out _));
    }

    [Fact]
    public void Next_n_claims_a_contiguous_range_that_Publish_lo_hi_makes_visible_at_once()
    {
        var ring = new RingBuffer<long>(16, new BlockingWaitStrategy());
        SequenceBarrier barrier = ring.NewBarrier();

        long high = ring.Next(3);
        Assert.Equal(2, high);
        Assert.Equal(2, ring.Cursor);
        for (long sequence = 0; sequence <= high; sequence++)
        {
            ring[sequence] = sequence * 10;
            Assert.False(ring.IsAvailable(sequence));
        }

        ring.Publish(0, high);
        for (long sequence = 0; sequence <= high; sequence++)
        {
            Assert.True(ring.IsAvailable(sequence));
            Assert.Equal(sequence * 10, ring[sequence]);
        }

        Assert.Equal(2, barrier.WaitFor(0));
        Assert.Equal(6, ring.Next(4));
        Assert.False(ring.IsAvailable(3));
    }

    [Fact]
    public void A_slot_published_out_of_order_is_not_visible_until_the_gap_before_it_is_published()
    {
        var ring = new RingBuffer<long>(8, new BlockingWaitStrategy());
        SequenceBarrier barrier = ring.NewBarrier();
        long first = ring.Next();
        long second = ring.Next();

        ring.Publish(second);
        Assert.False(ring.IsAvailable(first));
        Assert.True(ring.IsAvailable(second));
        Assert.Equal(first - 1, ring.GetHighestPublishedSequence(first, second));

        ring.Publish(first);
        Assert.Equal(second, ring.GetHighestPublishedSequence(first, second));
        Assert.Equal(second, barrier.WaitFor(first));
    }

    [Fact]
    public void A_barrier_waiting_on_a_claimed_but_unpublished_slot_returns_once_it_is_published()
    {
        var ring = new RingBuffer<long>(8, new HybridWaitStrategy());
        SequenceBarrier barrier = ring.NewBarrier();
        long first = ring.Next();
        long second = ring.Next();
        ring.Publish(second);

        // The cursor says 1 is claimed, so the strategy returns at once; the barrier must still wait
        // for slot 0's publication rather than hand out an unpublished slot.
        long available = -2;
        var consumer = new Thread(() => available = barrier.WaitFor(first)) { IsBackground = true };
        consumer.Start();
        ring.Publish(first);
        Assert.True(consumer.Join(FailureGuard));
        Assert.Equal(second, available);
    }

    [Fact]
    public void A_slot_published_on_an_earlier_lap_does_not_count_as_published_on_the_next()
    {
        var ring = new RingBuffer<long>(4, new BlockingWaitStrategy());
        ring.Publish(0, ring.Next(4));
        long nextLap = ring.Next();
        Assert.Equal(4, nextLap);
        Assert.False(ring.IsAvailable(nextLap));
        Assert.True(ring.IsAvailable(1));
        ring.Publish(nextLap);
        Assert.True(ring.IsAvailable(nextLap));
        Assert.False(ring.IsAvailable(0));
    }

    [Fact]
    public void Slots_are_reused_in_place_by_reference()
    {
        var ring = new RingBuffer<long>(4, new BlockingWaitStrategy());
        ref long slot = ref ring[1];
        slot = 42;
        Assert.Equal(42, ring[1]);
        Assert.Equal(42, ring[5]);
        Assert.True(System.Runtime.CompilerServices.Unsafe.AreSame(ref ring[1], ref ring[1 + 4 * 1000]));
    }

    [Fact]
    public void Claiming_and_publishing_allocate_nothing()
    {
        var ring = new RingBuffer<long>(1024, new HybridWaitStrategy());
        var lastStage = new Sequence();
        ring.AddGatingSequences(lastStage);
        SequenceBarrier barrier = ring.NewBarrier();

        // Warm up so one-time costs (JIT, static init) are not counted.
        ClaimPublishConsume(ring, barrier, lastStage, rounds: 10_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        ClaimPublishConsume(ring, barrier, lastStage, rounds: 100_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    private static void ClaimPublishConsume(RingBuffer<long> ring, SequenceBarrier barrier, Sequence lastStage, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            long sequence = ring.Next();
            ring[sequence] = round;
            ring.Publish(sequence);

            Assert.True(ring.TryNext(out long tried));
            ring.Publish(tried);

            long high = ring.Next(4);
            ring.Publish(high - 3, high);

            long available = barrier.WaitFor(sequence);
            lastStage.SetValue(available);
        }
    }
}
