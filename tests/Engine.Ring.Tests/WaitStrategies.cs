using Engine.Ring;

namespace Engine.Ring.Tests;

/// <summary>Builds wait strategies by name, so theories can run the same rule against each one.</summary>
internal static class WaitStrategies
{
    /// <summary>Strategies safe with more threads than cores (they yield or block).</summary>
    public static TheoryData<string> Sharing => new()
    {
        nameof(BlockingWaitStrategy),
        nameof(YieldingWaitStrategy),
        nameof(HybridWaitStrategy),
        HybridAlwaysBlocking,
    };

    /// <summary>Every strategy, for single-consumer tests.</summary>
    public static TheoryData<string> All
    {
        get
        {
            TheoryData<string> all = Sharing;
            all.Add(nameof(BusySpinWaitStrategy));
            return all;
        }
    }

    /// <summary>
    /// A hybrid that never spins or yields: every wait goes to sleep, so every hand-off exercises the
    /// "producer sees a blocked waiter and pulses" path that a lost wake-up would break.
    /// </summary>
    public const string HybridAlwaysBlocking = "HybridAlwaysBlocking";

    public static IWaitStrategy Create(string name) => name switch
    {
        nameof(BlockingWaitStrategy) => new BlockingWaitStrategy(),
        nameof(YieldingWaitStrategy) => new YieldingWaitStrategy(),
        nameof(HybridWaitStrategy) => new HybridWaitStrategy(),
        HybridAlwaysBlocking => new HybridWaitStrategy(spinIterations: 0, yieldIterations: 0),
        nameof(BusySpinWaitStrategy) => new BusySpinWaitStrategy(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown wait strategy"),
    };

    /// <summary>How many consumers are asleep in the strategy, or null if it never blocks.</summary>
    public static int? BlockedWaiterCount(IWaitStrategy strategy) => strategy switch
    {
        BlockingWaitStrategy blocking => blocking.BlockedWaiterCount,
        HybridWaitStrategy hybrid => hybrid.BlockedWaiterCount,
        _ => null,
    };
}
