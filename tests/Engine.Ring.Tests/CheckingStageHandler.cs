using Engine.Ring;

namespace Engine.Ring.Tests;

/// <summary>
/// A pipeline stage that checks, for every slot it sees: the per-producer counter is exactly the next one
/// (nothing lost, duplicated or reordered per producer), the previous stage has already stamped this slot
/// for this very sequence (no overtaking), and batches are well-formed (endOfBatch exactly on the last slot,
/// size within the bound). It then stamps the slot itself. Violations are recorded, not thrown, so the
/// test reports them all after the run instead of dying in the processor thread.
/// </summary>
internal sealed class CheckingStageHandler : IBatchEventHandler<TestSlot>
{
    private readonly int _stage;
    private readonly long[] _nextValueByProducer;
    private readonly int _maxBatchSize;
    private readonly long _lastSequence;
    private readonly ManualResetEventSlim _done = new(false);

    private long _batchSize;
    private long _positionInBatch;
    private long _expectedSequence;

    public CheckingStageHandler(int stage, int producerCount, int maxBatchSize, long lastSequence)
    {
        _stage = stage;
        _nextValueByProducer = new long[producerCount];
        _maxBatchSize = maxBatchSize;
        _lastSequence = lastSequence;
    }

    public long ViolationCount { get; private set; }

    public string? FirstViolation { get; private set; }

    public long EventCount { get; private set; }

    public long BatchCount { get; private set; }

    public long LargestBatch { get; private set; }

    public bool ShutdownCalled { get; private set; }

    /// <summary>Set when the stage processed the last expected sequence.</summary>
    public ManualResetEventSlim Done => _done;

    public long NextValueOf(int producer) => _nextValueByProducer[producer];

    public void OnBatchStart(long batchSize)
    {
        if (_positionInBatch != _batchSize)
        {
            Violation($"batch of {_batchSize} ended after {_positionInBatch} events");
        }

        if (batchSize < 1 || batchSize > _maxBatchSize)
        {
            Violation($"batch size {batchSize} outside 1..{_maxBatchSize}");
        }

        _batchSize = batchSize;
        _positionInBatch = 0;
        BatchCount++;
        LargestBatch = Math.Max(LargestBatch, batchSize);
    }

    public void OnEvent(ref TestSlot slot, long sequence, bool endOfBatch)
    {
        if (sequence != _expectedSequence)
        {
            Violation($"stage {_stage} got sequence {sequence}, expected {_expectedSequence}");
        }

        _expectedSequence = sequence + 1;
        _positionInBatch++;
        bool isLastOfBatch = _positionInBatch == _batchSize;
        if (endOfBatch != isLastOfBatch)
        {
            Violation($"stage {_stage} endOfBatch={endOfBatch} at position {_positionInBatch} of {_batchSize}");
        }

        if (_stage > 0 && TestSlot.Stamp(ref slot, _stage - 1) != sequence)
        {
            Violation($"stage {_stage} saw sequence {sequence} before stage {_stage - 1} processed it");
        }

        long expectedValue = _nextValueByProducer[slot.ProducerId];
        if (slot.Value != expectedValue)
        {
            Violation($"stage {_stage} producer {slot.ProducerId} value {slot.Value}, expected {expectedValue}");
        }

        _nextValueByProducer[slot.ProducerId] = slot.Value + 1;
        TestSlot.Stamp(ref slot, _stage) = sequence;
        EventCount++;
        if (sequence == _lastSequence)
        {
            _done.Set();
        }
    }

    public void OnShutdown() => ShutdownCalled = true;

    private void Violation(string message)
    {
        ViolationCount++;
        FirstViolation ??= message;
    }
}
