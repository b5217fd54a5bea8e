using Engine.Ring;

namespace Engine.Ring.Tests;

/// <summary>Barrier rules: dependencies, alerting.</summary>
public sealed class SequenceBarrierTests
{
    [Fact]
    public void An_alerted_barrier_throws_until_the_alert_is_cleared()
    {
        var ring = new RingBuffer<long>(8, new BlockingWaitStrategy());
        SequenceBarrier barrier = ring.NewBarrier();
        ring.Publish(ring.Next());

        barrier.Alert();
        Assert.True(barrier.IsAlerted);
        Assert.Same(AlertException.Instance, Assert.Throws<AlertException>(() => barrier.WaitFor(0)));
        Assert.Throws<AlertException>(barrier.CheckAlert);

        barrier.ClearAlert();
        Assert.False(barrier.IsAlerted);
        Assert.Equal(0, barrier.WaitFor(0));
    }

    [Fact]
    public void A_dependent_barrier_returns_no_more_than_its_slowest_dependency_has_processed()
    {
        var ring = new RingBuffer<long>(16, new BlockingWaitStrategy());
        ring.Publish(0, ring.Next(10));
        var upstreamA = new Sequence(5);
        var upstreamB = new Sequence(2);
        SequenceBarrier barrier = ring.NewBarrier(upstreamA, upstreamB);

        Assert.Equal(2, barrier.Cursor);
        Assert.Equal(2, barrier.WaitFor(1));
        upstreamB.SetValue(8);
        Assert.Equal(5, barrier.WaitFor(3));
    }

    [Fact]
    public void A_first_stage_barrier_reports_the_ring_cursor()
    {
        var ring = new RingBuffer<long>(16, new BlockingWaitStrategy());
        SequenceBarrier barrier = ring.NewBarrier();
        Assert.Equal(-1, barrier.Cursor);
        ring.Next(3);
        Assert.Equal(2, barrier.Cursor);
    }
}
