using Engine.Ring;

namespace Engine.Ring.Tests;

/// <summary>Many producers through a chain of stages: the end-to-end rules of the ring.</summary>
public sealed class PipelineTests
{
    private static readonly TimeSpan FailureGuard = TimeSpan.FromSeconds(30);

    public static TheoryData<string> SharingStrategies => WaitStrategies.Sharing;

    [Theory]
    [MemberData(nameof(SharingStrategies))]
    public void Many_producers_lose_nothing_duplicate_nothing_and_keep_per_producer_order(string strategyName)
    {
        RunPipeline(strategyName, producerCount: 4, itemsPerProducer: 200_000, stageCount: 3, claimSizeMax: 1);
    }

    [Theory]
    [MemberData(nameof(SharingStrategies))]
    public void Batched_claims_and_publishes_from_many_producers_arrive_whole_and_in_order(string strategyName)
    {
        RunPipeline(strategyName, producerCount: 4, itemsPerProducer: 100_000, stageCount: 2, claimSizeMax: 16);
    }

    [Fact]
    public void Busy_spin_hands_over_everything_from_one_producer_to_one_consumer()
    {
        // BusySpin only with one producer and one consumer: this box has two cores.
        RunPipeline(nameof(BusySpinWaitStrategy), producerCount: 1, itemsPerProducer: 200_000, stageCount: 1, claimSizeMax: 1);
    }

    [Theory]
    [InlineData(nameof(BlockingWaitStrategy))]
    [InlineData(WaitStrategies.HybridAlwaysBlocking)]
    public void Sleeping_stages_are_woken_for_every_single_item(string strategyName)
    {
        // One item at a time, and the producer waits for the last stage before publishing the next, so
        // both stages fall asleep between items: every hand-off (producer to stage 0, stage 0 to stage 1)
        // goes through the wake-up path. A lost wake-up hangs the chain until the failure guard.
        const int itemCount = 2_000;
        var ring = new RingBuffer<TestSlot>(8, WaitStrategies.Create(strategyName));
        var first = new CheckingStageHandler(stage: 0, producerCount: 1, maxBatchSize: 1, lastSequence: itemCount - 1);
        var second = new CheckingStageHandler(stage: 1, producerCount: 1, maxBatchSize: 1, lastSequence: itemCount - 1);
        var firstProcessor = new BatchEventProcessor<TestSlot>(ring, ring.NewBarrier(), first, maxBatchSize: 1);
        var secondProcessor = new BatchEventProcessor<TestSlot>(ring, ring.NewBarrier(firstProcessor.Sequence), second, maxBatchSize: 1);
        ring.AddGatingSequences(secondProcessor.Sequence);
        firstProcessor.Start("wake-0");
        secondProcessor.Start("wake-1");

        for (long item = 0; item < itemCount; item++)
        {
            long sequence = ring.Next();
            ring[sequence] = new TestSlot { ProducerId = 0, Value = item, Stage0Stamp = -1, Stage1Stamp = -1, Stage2Stamp = -1 };
            ring.Publish(sequence);
            Assert.True(SpinWait.SpinUntil(() => secondProcessor.Sequence.Value == sequence, FailureGuard),
                $"item {item} was never handed through: a stage missed its wake-up");
        }

        firstProcessor.Halt();
        secondProcessor.Halt();
        Assert.True(firstProcessor.Join(FailureGuard));
        Assert.True(secondProcessor.Join(FailureGuard));
        Assert.Null(firstProcessor.Fault);
        Assert.Null(secondProcessor.Fault);
        Assert.True(second.ViolationCount == 0, second.FirstViolation);
        Assert.Equal(itemCount, second.EventCount);
    }

    /// <summary>
    /// Runs producers through a chain of stages (each gated on the previous, the ring gated on the last),
    /// then checks every stage saw every item exactly once, in per-producer order, behind its predecessor,
    /// in well-formed batches bounded by the stage's maximum.
    /// </summary>
    private static void RunPipeline(string strategyName, int producerCount, int itemsPerProducer, int stageCount, int claimSizeMax)
    {
        const int bufferSize = 1024;
        int[] maxBatchSizes = [int.MaxValue, 64, 16];
        long totalItems = (long)producerCount * itemsPerProducer;
        var ring = new RingBuffer<TestSlot>(bufferSize, WaitStrategies.Create(strategyName));

        var handlers = new CheckingStageHandler[stageCount];
        var processors = new BatchEventProcessor<TestSlot>[stageCount];
        var faults = new List<Exception>();
        for (int stage = 0; stage < stageCount; stage++)
        {
            handlers[stage] = new CheckingStageHandler(stage, producerCount, maxBatchSizes[stage], lastSequence: totalItems - 1);
            SequenceBarrier barrier = stage == 0 ? ring.NewBarrier() : ring.NewBarrier(processors[stage - 1].Sequence);
            processors[stage] = new BatchEventProcessor<TestSlot>(
                ring, barrier, handlers[stage], maxBatchSizes[stage], onFault: exception => { lock (faults) { faults.Add(exception); } });
        }

        ring.AddGatingSequences(processors[stageCount - 1].Sequence);
        for (int stage = 0; stage < stageCount; stage++)
        {
            processors[stage].Start($"stage-{stage}");
        }

        using var startGate = new ManualResetEventSlim(false);
        var producers = new Thread[producerCount];
        for (int producer = 0; producer < producerCount; producer++)
        {
            int producerId = producer;
            producers[producer] = new Thread(() => Produce(ring, producerId, itemsPerProducer, claimSizeMax, startGate))
            {
                IsBackground = true,
                Name = $"producer-{producerId}",
            };
            producers[producer].Start();
        }

        startGate.Set();
        foreach (Thread producerThread in producers)
        {
            Assert.True(producerThread.Join(FailureGuard), "a producer did not finish");
        }

        bool lastStageDone = handlers[stageCount - 1].Done.Wait(FailureGuard);
        foreach (BatchEventProcessor<TestSlot> processor in processors)
        {
            processor.Halt();
        }

        foreach (BatchEventProcessor<TestSlot> processor in processors)
        {
            Assert.True(processor.Join(FailureGuard), "a processor did not stop");
        }

        Assert.Empty(faults);
        Assert.True(lastStageDone, "the last stage did not see the last item");
        Assert.Equal(totalItems - 1, ring.Cursor);
        for (int stage = 0; stage < stageCount; stage++)
        {
            CheckingStageHandler handler = handlers[stage];
            Assert.True(handler.ViolationCount == 0, $"stage {stage}: {handler.ViolationCount} violations, first: {handler.FirstViolation}");
            Assert.Equal(totalItems, handler.EventCount);
            Assert.Equal(totalItems - 1, processors[stage].Sequence.Value);
            Assert.True(handler.LargestBatch <= maxBatchSizes[stage]);
            Assert.True(handler.ShutdownCalled);
            for (int producer = 0; producer < producerCount; producer++)
            {
                Assert.Equal(itemsPerProducer, handler.NextValueOf(producer));
            }
        }
    }

    private static void Produce(RingBuffer<TestSlot> ring, int producerId, int itemCount, int claimSizeMax, ManualResetEventSlim startGate)
    {
        startGate.Wait();
        var random = new Random(producerId);
        long value = 0;
        while (value < itemCount)
        {
            int claimSize = (int)Math.Min(random.Next(1, claimSizeMax + 1), itemCount - value);
            long highSequence = claimSize == 1 ? ring.Next() : ring.Next(claimSize);
            long lowSequence = highSequence - claimSize + 1;
            for (long sequence = lowSequence; sequence <= highSequence; sequence++)
            {
                ref TestSlot slot = ref ring[sequence];
                slot.ProducerId = producerId;
                slot.Value = value++;
                slot.Stage0Stamp = -1;
                slot.Stage1Stamp = -1;
                slot.Stage2Stamp = -1;
            }

            if (claimSize == 1)
            {
                ring.Publish(highSequence);
            }
            else
            {
                ring.Publish(lowSequence, highSequence);
            }
        }
    }
}
