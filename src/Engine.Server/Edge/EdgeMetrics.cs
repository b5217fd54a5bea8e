using System.Diagnostics.Metrics;

namespace Engine.Server.Edge;

/// <summary>
/// Refusals at the edge on the <c>Credit.Engine.Edge</c> meter: <c>credit.edge.refused</c> counts calls refused
/// RESOURCE_EXHAUSTED by a limit, tagged <c>limit</c> with the setting's name. Refusals are rare by design, so a shared
/// counter with one tag is cheap enough; the meter lives as long as the process.
/// </summary>
public static class EdgeMetrics
{
    public const string MeterName = "Credit.Engine.Edge";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Refused = Meter.CreateCounter<long>("credit.edge.refused", "{call}",
        "Calls or stream messages refused RESOURCE_EXHAUSTED by an edge limit, by the limit's setting");

    public static void CountRefused(string limit) => Refused.Add(1, new KeyValuePair<string, object?>("limit", limit));
}
