namespace Engine.Ring.Tests;

/// <summary>The slot used by pipeline tests: who produced it, the producer's counter, and one stamp per stage.</summary>
internal struct TestSlot
{
    public int ProducerId;
    public long Value;
    public long Stage0Stamp;
    public long Stage1Stamp;
    public long Stage2Stamp;

    public static ref long Stamp(ref TestSlot slot, int stage)
    {
        switch (stage)
        {
            case 0: return ref slot.Stage0Stamp;
            case 1: return ref slot.Stage1Stamp;
            case 2: return ref slot.Stage2Stamp;
            default: throw new ArgumentOutOfRangeException(nameof(stage));
        }
    }
}
