using System.Globalization;

namespace Engine.LoadTest;

/// <summary>The pass/fail checks of a run (--max-p99-ms, --max-error-rate): each broken one is a sentence naming its flag.</summary>
public static class Thresholds
{
    public static IReadOnlyList<string> Broken(LoadTestOptions options, LoadTestResult result)
    {
        var broken = new List<string>();
        if (options.MaxP99Ms is double maxP99Ms && result.LatencyP99Ms > maxP99Ms)
            broken.Add(string.Create(CultureInfo.InvariantCulture, $"p99 {result.LatencyP99Ms:0.###} ms is above --max-p99-ms {maxP99Ms:0.###}"));
        if (options.MaxErrorRate is double maxErrorRate && result.ErrorRate > maxErrorRate)
            broken.Add(string.Create(CultureInfo.InvariantCulture, $"error rate {result.ErrorRate:0.######} ({result.Errors:N0} of {result.Requests:N0}) is above --max-error-rate {maxErrorRate:0.######}"));
        if (options.MaxP99Ms is not null && result.Replies == 0)
            broken.Add("no replies were measured, so --max-p99-ms cannot be checked");
        return broken;
    }
}
