using System.Collections.Concurrent;
using Credit.V1;
using Engine.Server.Edge;
using Microsoft.Extensions.Options;

namespace Engine.Server.Replication;

/// <summary>
/// The subscribers reading this server's event stream and how far each got, for ReplicationService.GetStatus and
/// metrics. Each Subscribe call registers one entry and updates it after every message it sends; the stream never
/// waits for the registry. Bounded: at most Server:SubscribeStreamsMax open streams, Server:SubscribeStreamsPerPrincipalMax
/// of them per principal (<see cref="TryRegister"/> refuses beyond).
/// </summary>
public sealed class SubscriberRegistry(IOptions<EdgeLimitOptions> limits)
{
    private readonly EdgeLimitOptions _limits = limits.Value;
    private readonly ConcurrentDictionary<long, Subscriber> _subscribers = new();
    // Open streams per principal. Register and unregister take this lock (once per stream, never per message), so the
    // count check and the registration are one step: two streams racing for the last place cannot both get it.
    private readonly Dictionary<string, int> _streamsByPrincipal = new(StringComparer.Ordinal);
    private readonly Lock _registering = new();
    // Highest sequence delivered to a durable-cursor stream, per cursor name: what AcknowledgeCursor may acknowledge
    // beyond the read model's head (a subscriber can be ahead of the read model). Bounded by Engine:Retention:CursorsMax
    // names; only durable-cursor streams record here.
    private readonly ConcurrentDictionary<string, long> _deliveredByCursor = new(StringComparer.Ordinal);
    private long _nextId;

    /// <summary>Records that a durable-cursor stream delivered up to <paramref name="sequence"/>.</summary>
    public void RecordDelivered(string cursorName, long sequence) =>
        _deliveredByCursor.AddOrUpdate(cursorName, sequence, (_, known) => Math.Max(known, sequence));

    /// <summary>The highest sequence delivered to a durable-cursor stream of that name since start (0 = none).</summary>
    public long DeliveredTo(string cursorName) => _deliveredByCursor.TryGetValue(cursorName, out long sequence) ? sequence : 0;

    /// <summary>Forgets a deleted cursor's delivery mark.</summary>
    public void ForgetCursor(string cursorName) => _deliveredByCursor.TryRemove(cursorName, out _);

    /// <summary>
    /// Registers a new stream, or returns null with <paramref name="refusal"/> saying which limit it would exceed
    /// (the caller answers RESOURCE_EXHAUSTED with it).
    /// </summary>
    public Subscriber? TryRegister(string name, string peer, string principal, SubscribeFormat format, long nowUnixMs, out string? refusal)
    {
        lock (_registering)
        {
            if (_subscribers.Count >= _limits.SubscribeStreamsMax)
            {
                refusal = $"{_subscribers.Count} Subscribe streams are open on this server, the most Server:SubscribeStreamsMax allows " +
                    $"({_limits.SubscribeStreamsMax}); retry later or subscribe to a read replica";
                EdgeMetrics.CountRefused("Server:SubscribeStreamsMax");
                return null;
            }
            _streamsByPrincipal.TryGetValue(principal, out int open);
            if (open >= _limits.SubscribeStreamsPerPrincipalMax)
            {
                refusal = $"principal '{principal}' has {open} Subscribe streams open, the most Server:SubscribeStreamsPerPrincipalMax allows " +
                    $"({_limits.SubscribeStreamsPerPrincipalMax}); close one first";
                EdgeMetrics.CountRefused("Server:SubscribeStreamsPerPrincipalMax");
                return null;
            }
            var subscriber = new Subscriber(name.Length > 0 ? name : peer, peer, format, nowUnixMs) { Id = Interlocked.Increment(ref _nextId), Principal = principal };
            _streamsByPrincipal[principal] = open + 1;
            _subscribers[subscriber.Id] = subscriber;
            refusal = null;
            return subscriber;
        }
    }

    public void Unregister(Subscriber subscriber)
    {
        lock (_registering)
        {
            if (!_subscribers.TryRemove(subscriber.Id, out _)) return;
            int open = _streamsByPrincipal[subscriber.Principal] - 1;
            if (open == 0) _streamsByPrincipal.Remove(subscriber.Principal);
            else _streamsByPrincipal[subscriber.Principal] = open;
        }
    }

    public int Count => _subscribers.Count;

    public IEnumerable<Subscriber> All => _subscribers.Values;

    /// <summary>One open Subscribe call.</summary>
    public sealed class Subscriber(string name, string peer, SubscribeFormat format, long connectedAtUnixMs)
    {
        private long _sentSequence;

        internal long Id { get; init; }
        internal string Principal { get; init; } = CallPrincipal.Anonymous;
        public string Name { get; } = name;
        public string Peer { get; } = peer;
        public SubscribeFormat Format { get; } = format;
        public long ConnectedAtUnixMs { get; } = connectedAtUnixMs;
        /// <summary>Whether this stream is a durable cursor's (its deliveries bound what the cursor may acknowledge).</summary>
        public bool DurableCursor { get; set; }

        /// <summary>The last sequence sent (written by its stream, read by status queries).</summary>
        public long SentSequence
        {
            get => Volatile.Read(ref _sentSequence);
            set => Volatile.Write(ref _sentSequence, value);
        }
    }
}
