using System.Diagnostics;
using Engine.Ring;

namespace Engine.Ring.Tests;

/// <summary>Rules of the batch-draining consumer: batch shape, halting, fail-stop.</summary>
public sealed class BatchEventProcessorTests
{
    private static readonly TimeSpan FailureGuard = TimeSpan.FromSeconds(30);

    public static TheoryData<string> AllStrategies => WaitStrategies.All;

    [Fact]
    public void Consumers_see_endOfBatch_on_the_last_slot_of_every_batch_and_batches_never_exceed_maxBatchSize()
    {
        var ring = new RingBuffer<long>(128, new HybridWaitStrategy());
        var handler = new RecordingHandler(stopAtSequence: 99);
        var processor = new BatchEventProcessor<long>(ring, ring.NewBarrier(), handler, maxBatchSize: 7);
        ring.AddGatingSequences(processor.Sequence);

        // Everything is published before the processor starts, so batches are exactly maxBatchSize long.
        ring.Publish(0, ring.Next(100));
        processor.Start("batch-shape");
        Assert.True(handler.Stopped.Wait(FailureGuard));
        processor.Halt();
        Assert.True(processor.Join(FailureGuard));

        long[] expectedSizes = [.. Enumerable.Repeat(7L, 14), 2L];
        Assert.Equal(expectedSizes, handler.BatchSizes);
        Assert.Equal(handler.EndOfBatchSequences.Count, handler.BatchSizes.Count);
        long end = -1;
        for (int batch = 0; batch < handler.BatchSizes.Count; batch++)
        {
            end += handler.BatchSizes[batch];
            Assert.Equal(end, handler.EndOfBatchSequences[batch]);
        }

        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), handler.Sequences);
        Assert.Equal(99, processor.Sequence.Value);
    }

    [Theory]
    [MemberData(nameof(AllStrategies))]
    public void Halt_stops_idle_processors_promptly(string strategyName)
    {
        IWaitStrategy strategy = WaitStrategies.Create(strategyName);
        var ring = new RingBuffer<long>(16, strategy);
        // A two-stage chain, so both kinds of wait (on the cursor, on an upstream stage) are halted;
        // busy-spin gets one stage only, since this box has two cores.
        int stageCount = strategy is BusySpinWaitStrategy ? 1 : 2;
        var handlers = new RecordingHandler[stageCount];
        var processors = new BatchEventProcessor<long>[stageCount];
        for (int stage = 0; stage < stageCount; stage++)
        {
            handlers[stage] = new RecordingHandler(stopAtSequence: long.MaxValue);
            SequenceBarrier barrier = stage == 0 ? ring.NewBarrier() : ring.NewBarrier(processors[stage - 1].Sequence);
            processors[stage] = new BatchEventProcessor<long>(ring, barrier, handlers[stage]);
            processors[stage].Start($"idle-{stage}");
            Assert.True(processors[stage].IsRunning);
        }

        // For strategies that block, halt only once every processor is provably asleep in the strategy:
        // that is the state in which a lost wake-up would hang forever.
        if (WaitStrategies.BlockedWaiterCount(strategy) is not null)
        {
            Assert.True(SpinWait.SpinUntil(() => WaitStrategies.BlockedWaiterCount(strategy) == stageCount, FailureGuard),
                "processors never went to sleep while idle");
        }

        var stopwatch = Stopwatch.StartNew();
        foreach (BatchEventProcessor<long> processor in processors)
        {
            processor.Halt();
        }

        foreach (BatchEventProcessor<long> processor in processors)
        {
            Assert.True(processor.Join(FailureGuard), "an idle processor did not stop");
            Assert.False(processor.IsRunning);
            Assert.Null(processor.Fault);
        }

        // Generous for a loaded two-core box; a missed wake-up would take until the failure guard.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"halting took {stopwatch.Elapsed}");
        Assert.All(handlers, handler => Assert.True(handler.ShutdownCalled));
        Assert.All(handlers, handler => Assert.Empty(handler.Sequences));
    }

    [Fact]
    public void Halt_lets_the_current_batch_finish_before_the_processor_exits()
    {
        var ring = new RingBuffer<long>(16, new HybridWaitStrategy());
        using var insideBatch = new ManualResetEventSlim(false);
        using var release = new ManualResetEventSlim(false);
        var handler = new RecordingHandler(stopAtSequence: long.MaxValue)
        {
            OnEach = sequence =>
            {
                if (sequence == 3)
                {
                    insideBatch.Set();
                    release.Wait(FailureGuard);
                }
            },
        };
        var processor = new BatchEventProcessor<long>(ring, ring.NewBarrier(), handler, maxBatchSize: 10);
        ring.Publish(0, ring.Next(15));
        processor.Start("halt-mid-batch");

        Assert.True(insideBatch.Wait(FailureGuard));
        processor.Halt();
        release.Set();
        Assert.True(processor.Join(FailureGuard));

        // The first batch (0..9) completes; the second (10..14) never starts.
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), handler.Sequences);
        Assert.Equal(9, processor.Sequence.Value);
        Assert.True(handler.ShutdownCalled);
        Assert.Null(processor.Fault);
    }

    [Fact]
    public void A_throwing_handler_stops_the_processor_reports_the_fault_and_stops_the_line()
    {
        var ring = new RingBuffer<long>(16, new HybridWaitStrategy());
        var bug = new InvalidOperationException("handler bug");
        var first = new RecordingHandler(stopAtSequence: long.MaxValue)
        {
            OnEach = sequence =>
            {
                if (sequence == 5)
                {
                    throw bug;
                }
            },
        };
        var second = new RecordingHandler(stopAtSequence: 3);
        Exception? reported = null;
        int reportCount = 0;
        var firstProcessor = new BatchEventProcessor<long>(ring, ring.NewBarrier(), first, maxBatchSize: 4,
            onFault: exception =>
            {
                reported = exception;
                reportCount++;
            });
        var secondProcessor = new BatchEventProcessor<long>(ring, ring.NewBarrier(firstProcessor.Sequence), second);
        ring.AddGatingSequences(secondProcessor.Sequence);

        ring.Publish(0, ring.Next(10));
        secondProcessor.Start("after-faulty");
        firstProcessor.Start("faulty");

        Assert.True(firstProcessor.Join(FailureGuard), "a faulted processor must exit by itself");
        Assert.False(firstProcessor.IsRunning);
        Assert.Same(bug, firstProcessor.Fault);
        Assert.Same(bug, reported);
        Assert.Equal(1, reportCount);
        Assert.True(first.ShutdownCalled);
        // Batches 0..3 and 4..7: the second failed at 5, so the sequence stays at the end of the first and
        // slot 5 is never skipped over.
        Assert.Equal(3, firstProcessor.Sequence.Value);
        // Slot 5 threw before the handler recorded it; nothing after it was attempted.
        Assert.Equal(Enumerable.Range(0, 5).Select(i => (long)i), first.Sequences);

        Assert.True(second.Stopped.Wait(FailureGuard));
        secondProcessor.Halt();
        Assert.True(secondProcessor.Join(FailureGuard));
        Assert.Equal(3, secondProcessor.Sequence.Value);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => (long)i), second.Sequences);
    }

    [Fact]
    public void A_handler_that_fails_to_start_stops_the_processor_and_reports_the_fault()
    {
        var ring = new RingBuffer<long>(8, new HybridWaitStrategy());
        var failure = new InvalidOperationException("cannot open the journal");
        var handler = new FailingStartHandler(failure);
        Exception? reported = null;
        var processor = new BatchEventProcessor<long>(ring, ring.NewBarrier(), handler, onFault: exception => reported = exception);
        ring.Publish(ring.Next());

        processor.Start("failing-start");
        Assert.True(processor.Join(FailureGuard));
        Assert.Same(failure, processor.Fault);
        Assert.Same(failure, reported);
        Assert.Equal(Sequence.InitialValue, processor.Sequence.Value);
        Assert.Equal(0, handler.EventCount);
        Assert.True(handler.ShutdownCalled);
    }

    [Fact]
    public void A_processor_halted_before_it_starts_exits_as_soon_as_it_starts()
    {
        var ring = new RingBuffer<long>(8, new BlockingWaitStrategy());
        var handler = new RecordingHandler(stopAtSequence: long.MaxValue);
        var processor = new BatchEventProcessor<long>(ring, ring.NewBarrier(), handler);
        ring.Publish(ring.Next());

        Assert.True(processor.Join(FailureGuard), "a processor never started has nothing to join");
        processor.Halt();
        processor.Start("halted-early");
        Assert.True(processor.Join(FailureGuard));
        Assert.True(handler.StartCalled);
        Assert.True(handler.ShutdownCalled);
        Assert.Empty(handler.Sequences);
    }

    [Fact]
    public void Start_runs_OnStart_on_the_named_processor_thread_and_a_second_Start_is_refused()
    {
        var ring = new RingBuffer<long>(8, new HybridWaitStrategy());
        var handler = new RecordingHandler(stopAtSequence: long.MaxValue);
        var processor = new BatchEventProcessor<long>(ring, ring.NewBarrier(), handler);

        processor.Start("named-stage");
        Assert.True(handler.StartCalled, "Start returns only after OnStart ran");
        Assert.Equal("named-stage", handler.StartThreadName);
        Assert.Throws<InvalidOperationException>(() => processor.Start("again"));

        processor.Halt();
        Assert.True(processor.Join(FailureGuard));
        Assert.Equal("named-stage", handler.ShutdownThreadName);
    }

    [Fact]
    public void A_batch_bound_below_one_is_refused()
    {
        var ring = new RingBuffer<long>(8, new HybridWaitStrategy());
        var handler = new RecordingHandler(stopAtSequence: long.MaxValue);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchEventProcessor<long>(ring, ring.NewBarrier(), handler, maxBatchSize: 0));
    }

    [Fact]
    public void Draining_allocates_nothing_on_the_processor_thread()
    {
        const long itemCount = 200_000;
        var ring = new RingBuffer<long>(1024, new HybridWaitStrategy());
        var handler = new AllocationMeasuringHandler(measureFrom: 50_000, measureTo: itemCount - 1);
        var processor = new BatchEventProcessor<long>(ring, ring.NewBarrier(), handler, maxBatchSize: 64);
        ring.AddGatingSequences(processor.Sequence);
        processor.Start("allocation-free");

        for (long item = 0; item < itemCount; item++)
        {
            long sequence = ring.Next();
            ring[sequence] = item;
            ring.Publish(sequence);
        }

        Assert.True(handler.Done.Wait(FailureGuard));
        processor.Halt();
        Assert.True(processor.Join(FailureGuard));
        Assert.Null(processor.Fault);
        Assert.Equal(0, handler.AllocatedBytes);
    }

    /// <summary>Records everything it sees, for single-stage shape tests.</summary>
    private sealed class RecordingHandler(long stopAtSequence) : IBatchEventHandler<long>
    {
        public List<long> Sequences { get; } = [];

        public List<long> BatchSizes { get; } = [];

        public List<long> EndOfBatchSequences { get; } = [];

        public Action<long>? OnEach { get; init; }

        public ManualResetEventSlim Stopped { get; } = new(false);

        public bool StartCalled { get; private set; }

        public bool ShutdownCalled { get; private set; }

        public string? StartThreadName { get; private set; }

        public string? ShutdownThreadName { get; private set; }

        public void OnEvent(ref long slot, long sequence, bool endOfBatch)
        {
            OnEach?.Invoke(sequence);
            Sequences.Add(sequence);
            if (endOfBatch)
            {
                EndOfBatchSequences.Add(sequence);
            }

            if (sequence == stopAtSequence)
            {
                Stopped.Set();
            }
        }

        public void OnBatchStart(long batchSize) => BatchSizes.Add(batchSize);

        public void OnStart()
        {
            StartCalled = true;
            StartThreadName = Thread.CurrentThread.Name;
        }

        public void OnShutdown()
        {
            ShutdownCalled = true;
            ShutdownThreadName = Thread.CurrentThread.Name;
        }
    }

    private sealed class FailingStartHandler(Exception failure) : IBatchEventHandler<long>
    {
        public int EventCount { get; private set; }

        public bool ShutdownCalled { get; private set; }

        public void OnStart() => throw failure;

        public void OnEvent(ref long slot, long sequence, bool endOfBatch) => EventCount++;

        public void OnShutdown() => ShutdownCalled = true;
    }

    /// <summary>Measures bytes allocated by the processor thread between two sequences.</summary>
    private sealed class AllocationMeasuringHandler(long measureFrom, long measureTo) : IBatchEventHandler<long>
    {
        private long _allocatedAtStart;

        public long Sum { get; private set; }

        public long AllocatedBytes { get; private set; } = -1;

        public ManualResetEventSlim Done { get; } = new(false);

        public void OnEvent(ref long slot, long sequence, bool endOfBatch)
        {
            Sum += slot;
            if (sequence == measureFrom)
            {
                _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
            }
            else if (sequence == measureTo)
            {
                AllocatedBytes = GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart;
                Done.Set();
            }
        }
    }
}
