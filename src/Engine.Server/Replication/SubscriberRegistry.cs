using System.Collections.Concurrent;
using Credit.V1;

namespace Engine.Server.Replication;

/// <summary>
/// The subscribers reading this server's event stream and how far each got, for ReplicationService.GetStatus and
/// metrics. Each Subscribe call registers one entry and updates it after every message it sends; the stream never
/// waits for the registry. Bounded by the number of open Subscribe calls.
/// </summary>
public sealed class SubscriberRegistry
{
    private readonly ConcurrentDictionary<long, Subscriber> _subscribers = new();
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

    public Subscriber Register(string name, string peer, SubscribeFormat format, long nowUnixMs)
    {
        var subscriber = new Subscriber(name.Length > 0 ? name : peer, peer, format, nowUnixMs) { Id = Interlocked.Increment(ref _nextId) };
        _subscribers[subscriber.Id] = subscriber;
        return subscriber;
    }

    public void Unregister(Subscriber subscriber) => _subscribers.TryRemove(subscriber.Id, out _);

    public int Count => _subscribers.Count;

    public IEnumerable<Subscriber> All => _subscribers.Values;

    /// <summary>One open Subscribe call.</summary>
    public sealed class Subscriber(string name, string peer, SubscribeFormat format, long connectedAtUnixMs)
    {
        private long _sentSequence;

        internal long Id { get; init; }
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
