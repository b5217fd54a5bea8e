using System.Diagnostics.Metrics;
using Engine.ReadModel;

namespace Engine.Server.Replication;

/// <summary>
/// Replication gauges on the <c>Credit.Engine.Replication</c> meter (read them with
/// <c>dotnet-counters monitor -n Engine.Server --counters Credit.Engine.Replication</c> or any OpenTelemetry exporter):
/// the read model's applied and head sequence, lag in events and milliseconds, whether a replica's upstream is
/// connected, and the number of subscribers with the largest subscriber lag.
/// </summary>
public sealed class ReplicationMetrics : IDisposable
{
    public const string MeterName = "Credit.Engine.Replication";
    private readonly Meter _meter;

    public ReplicationMetrics(IMeterFactory meters, LedgerReadModel readModel, SubscriberRegistry registry, ReadModelFeed feed)
    {
        _meter = meters.Create(MeterName);
        _meter.CreateObservableGauge("credit.read_model.applied_sequence", () => readModel.AppliedSequence, description: "last sequence applied by the read model");
        _meter.CreateObservableGauge("credit.read_model.head_sequence", () => readModel.HeadSequence, description: "newest sequence known upstream");
        _meter.CreateObservableGauge("credit.read_model.lag_events", () => Math.Max(0, readModel.HeadSequence - readModel.AppliedSequence), unit: "{event}");
        _meter.CreateObservableGauge("credit.read_model.lag_ms", () => readModel.LagMs(feed.Upstream?.Connected ?? true), unit: "ms");
        _meter.CreateObservableGauge("credit.replica.leader_connected", () => feed.Upstream is { } upstream ? (upstream.Connected ? 1 : 0) : 1);
        _meter.CreateObservableGauge("credit.subscribers", () => registry.Count, unit: "{subscriber}");
        _meter.CreateObservableGauge("credit.subscribers.max_lag_events", () =>
        {
            long head = readModel.HeadSequence, lag = 0;
            foreach (SubscriberRegistry.Subscriber subscriber in registry.All) lag = Math.Max(lag, head - subscriber.SentSequence);
            return lag;
        }, unit: "{event}");
    }

    public void Dispose() => _meter.Dispose();
}
