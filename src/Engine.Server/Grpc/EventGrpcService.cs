using Credit.V1;
using Engine.Core;
using Engine.Domain;
using Engine.Journal;
using Engine.Server.Hosting;
using Engine.ReadModel;
using Engine.Server.Replication;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;
using DomainEvent = Engine.Domain.LedgerEvent;
using EventBlock = Engine.Domain.EventBlock;

namespace Engine.Server.Grpc;

/// <summary>
/// credit.v1.EventService.Subscribe, on a leader and on a read replica alike: it serves the log the read model
/// indexes (the engine's journal, or the replica's own copy). Each subscriber owns a <see cref="JournalReader"/>:
/// catch-up and live tail are the same loop — read committed records, and when there are none, wait for the next
/// commit. Only committed (durable) records are readable, so only durable events are sent. The writer never waits
/// for a subscriber; a slow one just reads the log later. Per-subscriber memory is one message: at most
/// Server:SubscribeBatchEventsMax events, or in EVENT_BLOCKS format about 1 MiB of blocks.
/// </summary>
public sealed class EventGrpcService(LedgerReadModel readModel, SubscriberRegistry registry, ReadModelFeed feed, TimeProvider clock, IOptions<ServerOptions> options, IHostApplicationLifetime lifetime,
    IOptions<ServerRoleOptions> role, IServiceProvider services, ILogger<EventGrpcService> logger)
    : EventService.EventServiceBase
{
    private const int BlocksMessageBytesTarget = 1 << 20;
    private readonly int _batchEventsMax = options.Value.SubscribeBatchEventsMax;

    public override async Task Subscribe(SubscribeRequest request, IServerStreamWriter<SubscribeResponse> responseStream, ServerCallContext context)
    {
        if (request.FromSequence < 0) throw GrpcErrors.InvalidArgument("from_sequence", "must be >= 0 (0 and 1 both mean the first event)");
        SubscribeFormat format = request.Format switch
        {
            SubscribeFormat.Unspecified or SubscribeFormat.Events => SubscribeFormat.Events,
            SubscribeFormat.EventBlocks => SubscribeFormat.EventBlocks,
            _ => throw GrpcErrors.InvalidArgument("format", $"unknown SubscribeFormat value {(int)request.Format}"),
        };
        if (request.SubscriberName.Length > 0 && CommandValidator.CheckId(request.SubscriberName, "subscriber_name", required: false) is { } nameError)
            throw GrpcErrors.InvalidArgument(nameError);
        if (lifetime.ApplicationStopping.IsCancellationRequested) throw GrpcErrors.NotRunning("the server is shutting down");
        if (readModel.Fault is not null) throw GrpcErrors.NotRunning("the read model stopped after an internal failure; see the server log");
        EventJournal journal = GrpcErrors.FromReadModel(() => readModel.Journal);
        long expected = Math.Max(1, request.FromSequence);
        (ConsumerCursors? cursors, bool createdCursor) = (null, false);
        if (request.DurableCursor)
        {
            (cursors, createdCursor, expected) = RegisterCursor(request);
        }
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        CancellationToken ct = stopping.Token;
        SubscriberRegistry.Subscriber subscriber = registry.TryRegister(request.SubscriberName, context.Peer, Edge.CallPrincipal.Of(context), format,
                clock.GetUtcNow().ToUnixTimeMilliseconds(), out string? refusal)
            ?? throw ForgetNewCursor(cursors, createdCursor, request.SubscriberName, new RpcException(new global::Grpc.Core.Status(StatusCode.ResourceExhausted, refusal!)));
        subscriber.DurableCursor = request.DurableCursor;
        var stream = new StreamState(expected);
        try
        {
            // Headers now, not with the first event: a follower of an idle server knows at once that it is connected.
            // The log epoch cannot change during a stream (a cut happens only at start-up), so the header covers all of it.
            await context.WriteResponseHeadersAsync(new Metadata
            {
                { ReplicationHeaders.HeadSequence, readModel.HeadSequence.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                { ReplicationHeaders.LogEpoch, feed.LogEpoch.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            }).ConfigureAwait(false);
            using JournalReader reader = journal.OpenReader(GrpcErrors.FromReadModel(() => readModel.StartAddressFor(expected)));
            while (true)
            {
                while (reader.TryReadNext(out ReadOnlySpan<byte> payload, out long address, out _))
                {
                    (long first, long last) = SequenceRange(payload, address);
                    if (last < stream.Expected) continue; // before from_sequence: the start address is only a lower bound
                    if (first > stream.Expected)
                    {
                        if (!stream.AcceptedAny)
                            throw ForgetNewCursor(cursors, createdCursor, request.SubscriberName, new RpcException(new global::Grpc.Core.Status(StatusCode.OutOfRange,
                                $"from_sequence {stream.Expected} is no longer in the journal; the oldest event is {first}. Rebuild from ReplicationService.GetSnapshot.")));
                        throw new InvalidOperationException($"subscriber expected sequence {stream.Expected} but the journal continued with {first}: sequences must be dense");
                    }
                    if (format == SubscribeFormat.EventBlocks)
                    {
                        stream.AddBlock(payload, first, last);
                    }
                    else
                    {
                        List<DomainEvent> events = stream.DecodeFromExpected(payload, address);
                        foreach (DomainEvent e in events)
                        {
                            stream.AddEvent(e);
                            if (stream.PendingEvents >= _batchEventsMax) await SendAsync(stream.Take(), subscriber, responseStream, ct).ConfigureAwait(false);
                        }
                    }
                    stream.Expected = last + 1;
                    stream.AcceptedAny = true;
                    if (stream.PendingBytes >= BlocksMessageBytesTarget) await SendAsync(stream.Take(), subscriber, responseStream, ct).ConfigureAwait(false);
                }
                if (stream.HasPending) await SendAsync(stream.Take(), subscriber, responseStream, ct).ConfigureAwait(false);
                if (reader.EndState.IsTornTail)
                    throw new InvalidOperationException($"the journal ends in a torn record at address {reader.EndState.Address} while the server runs");
                await journal.WaitForCommitAsync(reader.NextAddress + 1, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw GrpcErrors.NotRunning($"the server is shutting down; resume from sequence {stream.Expected}");
        }
        catch (JournalTruncatedException e)
        {
            // Retention truncated the log past this subscriber (at the start, or while it was reading slowly).
            var outOfRange = new RpcException(new global::Grpc.Core.Status(StatusCode.OutOfRange,
                $"sequence {stream.Expected} is no longer in the journal (it now begins at address {e.BeginAddress}); rebuild from ReplicationService.GetSnapshot"));
            throw stream.AcceptedAny ? outOfRange : ForgetNewCursor(cursors, createdCursor, request.SubscriberName, outOfRange);
        }
        catch (ObjectDisposedException)
        {
            throw GrpcErrors.NotRunning($"the server is shutting down; resume from sequence {stream.Expected}");
        }
        finally
        {
            registry.Unregister(subscriber);
        }
    }

    private async Task SendAsync(SubscribeResponse response, SubscriberRegistry.Subscriber subscriber, IServerStreamWriter<SubscribeResponse> responseStream, CancellationToken ct)
    {
        long last = response.Blocks.Count > 0 ? response.Blocks[^1].LastSequence : response.Events[^1].Sequence;
        response.HeadSequence = Math.Max(readModel.HeadSequence, last);
        await responseStream.WriteAsync(response, ct).ConfigureAwait(false);
        subscriber.SentSequence = last;
        if (subscriber.DurableCursor) registry.RecordDelivered(subscriber.Name, last);
    }

    /// <summary>
    /// Registers or resumes the durable cursor the request names; returns where the stream starts. A new cursor is
    /// acknowledged at from_sequence - 1; an existing one resumes at its acknowledged + 1 when from_sequence is 0.
    /// </summary>
    private (ConsumerCursors Cursors, bool Created, long Expected) RegisterCursor(SubscribeRequest request)
    {
        if (request.SubscriberName.Length == 0) throw GrpcErrors.InvalidArgument("subscriber_name", "is required with durable_cursor (it names the cursor)");
        ConsumerCursors cursors = LeaderEngine().Cursors;
        try
        {
            ConsumerCursor cursor = cursors.Register(request.SubscriberName, Math.Max(0, request.FromSequence - 1), clock.GetUtcNow().ToUnixTimeMilliseconds(), out bool created);
            long expected = request.FromSequence == 0 ? cursor.AckedSequence + 1 : request.FromSequence;
            if (created) logger.LogInformation("durable cursor '{Name}' registered at acknowledged sequence {Acked}", cursor.Name, cursor.AckedSequence);
            return (cursors, created, Math.Max(1, expected));
        }
        catch (ConsumerCursorException e)
        {
            throw GrpcErrors.Cursor(e);
        }
    }

    /// <summary>
    /// The engine, for durable cursors: they hold the leader's journal retention, so a read replica refuses them
    /// (FAILED_PRECONDITION naming the leader) without ever resolving the engine host, which a replica does not run.
    /// </summary>
    private CreditEngine LeaderEngine()
    {
        if (role.Value.IsReplica)
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.FailedPrecondition,
                $"durable cursors are kept by the leader; this server is a read replica of {role.Value.LeaderUrl}"));
        return services.GetRequiredService<EngineHost>().Engine;
    }

    /// <summary>A cursor this very call registered for events that are already gone would only hold nothing: remove it again.</summary>
    private RpcException ForgetNewCursor(ConsumerCursors? cursors, bool created, string name, RpcException error)
    {
        if (cursors is not null && created)
        {
            cursors.Delete(name);
            registry.ForgetCursor(name);
        }
        return error;
    }

    public override Task<AcknowledgeCursorResponse> AcknowledgeCursor(AcknowledgeCursorRequest request, ServerCallContext context)
    {
        if (CommandValidator.CheckId(request.SubscriberName, "subscriber_name", required: true) is { } nameError) throw GrpcErrors.InvalidArgument(nameError);
        if (request.Sequence < 0) throw GrpcErrors.InvalidArgument("sequence", "must be >= 0");
        CreditEngine engine = LeaderEngine();
        // Only what exists may be acknowledged: an acknowledgement beyond it would release events never delivered.
        long deliverable = Math.Max(readModel.HeadSequence, registry.DeliveredTo(request.SubscriberName));
        if (request.Sequence > deliverable)
            throw GrpcErrors.InvalidArgument("sequence", $"{request.Sequence} is beyond the newest sequence delivered or durable here ({deliverable})");
        try
        {
            ConsumerCursor cursor = engine.Cursors.Acknowledge(request.SubscriberName, request.Sequence, clock.GetUtcNow().ToUnixTimeMilliseconds());
            return Task.FromResult(new AcknowledgeCursorResponse { AckedSequence = cursor.AckedSequence });
        }
        catch (ConsumerCursorException e)
        {
            throw GrpcErrors.Cursor(e);
        }
    }

    public override Task<DeleteCursorResponse> DeleteCursor(DeleteCursorRequest request, ServerCallContext context)
    {
        if (CommandValidator.CheckId(request.SubscriberName, "subscriber_name", required: true) is { } nameError) throw GrpcErrors.InvalidArgument(nameError);
        CreditEngine engine = LeaderEngine();
        bool deleted = engine.Cursors.Delete(request.SubscriberName);
        registry.ForgetCursor(request.SubscriberName);
        if (deleted)
        {
            logger.LogInformation("durable cursor '{Name}' deleted by {Peer}", request.SubscriberName, context.Peer);
            engine.RequestRetentionPass();
        }
        return Task.FromResult(new DeleteCursorResponse { Deleted = deleted });
    }

    /// <summary>The first and last sequence of a record (<see cref="EventBlock.SequenceRange"/>).</summary>
    private static (long First, long Last) SequenceRange(ReadOnlySpan<byte> payload, long address)
    {
        try
        {
            (long first, long last, _) = EventBlock.SequenceRange(payload);
            return (first, last);
        }
        catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException)
        {
            throw new JournalCorruptException(address, $"journal record at address {address} does not decode: {e.Message}");
        }
    }

    /// <summary>One subscriber's position and the message it is filling.</summary>
    private sealed class StreamState(long expected) : IEventSink
    {
        private readonly List<DomainEvent> _decoded = [];
        private SubscribeResponse _pending = new();

        public long Expected { get; set; } = expected;
        /// <summary>True once a record at or after from_sequence was accepted: a later jump is a gap, not retention.</summary>
        public bool AcceptedAny { get; set; }
        public int PendingBytes { get; private set; }
        public int PendingEvents => _pending.Events.Count;
        public bool HasPending => _pending.Blocks.Count > 0 || _pending.Events.Count > 0;

        public void AddBlock(ReadOnlySpan<byte> payload, long first, long last)
        {
            // Sent whole even when it starts before Expected (the subscriber skips what it has): no re-encoding here.
            _pending.Blocks.Add(new Credit.V1.EventBlock
            {
                FirstSequence = first,
                LastSequence = last,
                Payload = ByteString.CopyFrom(payload),
                Crc32C = Crc32C.Compute(payload),
            });
            PendingBytes += payload.Length;
        }

        /// <summary>The record's events from Expected on, decoded now: the payload span is only valid until the reader moves on.</summary>
        public List<DomainEvent> DecodeFromExpected(ReadOnlySpan<byte> payload, long address)
        {
            _decoded.Clear();
            try
            {
                EventBlock.Decode(payload, this);
            }
            catch (FormatException e)
            {
                throw new JournalCorruptException(address, $"journal record at address {address} does not decode: {e.Message}");
            }
            return _decoded;
        }

        public void OnEvent(in DomainEvent ledgerEvent)
        {
            if (ledgerEvent.Sequence >= Expected) _decoded.Add(ledgerEvent);
        }

        public void AddEvent(in DomainEvent e) => _pending.Events.Add(EventMapping.ToProto(e));

        public SubscribeResponse Take()
        {
            SubscribeResponse response = _pending;
            _pending = new SubscribeResponse();
            PendingBytes = 0;
            return response;
        }
    }
}
