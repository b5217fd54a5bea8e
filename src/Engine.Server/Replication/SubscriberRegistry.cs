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
    private long _nextId;

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

        /// <summary>The last sequence sent (written by its stream, read by status queries).</summary>
        public long SentSequence
        {
            get => Volatile.Read(ref _sentSequence);
            set => Volatile.Write(ref _sentSequence, value);
        }
    }
}
