namespace Engine.LoadTest;

/// <summary>
/// Picks an index in 0..n-1 with P(k) ∝ 1 / (k + 1)^s, so index 0 is the hottest; s = 0 is uniform.
/// Inverts a precomputed cumulative distribution by binary search: n doubles of memory (80 MB at the 10M-account bound).
/// </summary>
public sealed class ZipfSampler
{
    private readonly int _count;
    private readonly double[]? _cumulative;

    public ZipfSampler(int count, double exponent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(exponent);
        _count = count;
        if (exponent == 0) return;
        _cumulative = new double[count];
        double sum = 0;
        for (int k = 0; k < count; k++) _cumulative[k] = sum += Math.Pow(k + 1, -exponent);
        for (int k = 0; k < count; k++) _cumulative[k] /= sum;
        _cumulative[count - 1] = 1.0;
    }

    public int Next(Random random)
    {
        if (_cumulative is null) return random.Next(_count);
        double u = random.NextDouble();
        int index = Array.BinarySearch(_cumulative, u);
        // Not found: ~index is the first entry larger than u, which is the sampled rank.
        return index >= 0 ? index : Math.Min(~index, _count - 1);
    }
}
