using Credit.V1;
using Engine.Core;
using Engine.Domain;
using Engine.Journal;
using Engine.Server.Hosting;
using Engine.Server.ReadModel;
using Grpc.Core;
using Microsoft.Extensions.Options;
using DomainEvent = Engine.Domain.LedgerEvent;

namespace Engine.Server.Grpc;

/// <summary>
/// credit.v1.EventService.Subscribe. Each subscriber owns a <see cref="JournalReader"/>: catch-up and live tail are
/// the same loop — read committed records, and when there are none, wait for the next commit. Only committed
/// (durable) records are readable, so only durable events are sent. The engine never waits for a subscriber; a
/// slow one just reads the log later. Per-subscriber memory is one journal record's events (the record is decoded
/// before anything is sent, because its bytes are only valid until the next read) plus one response message.
/// </summary>
public sealed class EventGrpcService(EngineHost host, EmbeddedReadModel readModel, IOptions<ServerOptions> options, IHostApplicationLifetime lifetime) : EventService.EventServiceBase
{
    private readonly int _batchEventsMax = options.Value.SubscribeBatchEventsMax;

    public override async Task Subscribe(SubscribeRequest request, IServerStreamWriter<SubscribeResponse> responseStream, ServerCallContext context)
    {
        if (request.FromSequence < 0) throw GrpcErrors.InvalidArgument("from_sequence", "must be >= 0 (0 and 1 both mean the first event)");
        if (host.IsDraining) throw GrpcErrors.NotRunning("the server is shutting down");
        EventJournal journal = host.Journal;
        long expected = Math.Max(1, request.FromSequence);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        CancellationToken ct = stopping.Token;
        var decoded = new EventCollector();
        bool first = true;
        try
        {
            using JournalReader reader = journal.OpenReader(readModel.StartAddressFor(expected, journal));
            while (true)
            {
                while (reader.TryReadNext(out ReadOnlySpan<byte> payload, out long address, out _))
                {
                    decoded.Events.Clear();
                    decoded.SkipBelow = expected;
                    try
                    {
                        EventBlock.Decode(payload, decoded);
                    }
                    catch (FormatException e)
                    {
                        throw new JournalCorruptException(address, $"journal record at address {address} does not decode: {e.Message}");
                    }
                    if (decoded.Events.Count == 0) continue;
                    long firstSequence = decoded.Events[0].Sequence;
                    if (firstSequence != expected)
                    {
                        if (first && firstSequence > expected)
                            throw new RpcException(new global::Grpc.Core.Status(StatusCode.OutOfRange, $"from_sequence {expected} is no longer in the journal; the oldest event is {firstSequence}"));
                        throw new InvalidOperationException($"subscriber expected sequence {expected} but the journal continued with {firstSequence}: sequences must be dense");
                    }
                    first = false;
                    expected = decoded.Events[^1].Sequence + 1;
                    await SendAsync(decoded.Events, responseStream, ct).ConfigureAwait(false);
                }
                if (reader.EndState.IsTornTail)
                    throw new InvalidOperationException($"the journal ends in a torn record at address {reader.EndState.Address} while the engine runs");
                await journal.WaitForCommitAsync(reader.NextAddress + 1, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw GrpcErrors.NotRunning($"the server is shutting down; resume from sequence {expected}");
        }
        catch (ObjectDisposedException)
        {
            throw GrpcErrors.NotRunning($"the server is shutting down; resume from sequence {expected}");
        }
    }

    private async Task SendAsync(List<DomainEvent> events, IServerStreamWriter<SubscribeResponse> responseStream, CancellationToken ct)
    {
        for (int at = 0; at < events.Count; at += _batchEventsMax)
        {
            var response = new SubscribeResponse();
            int end = Math.Min(events.Count, at + _batchEventsMax);
            for (int i = at; i < end; i++) response.Events.Add(EventMapping.ToProto(events[i]));
            await responseStream.WriteAsync(response, ct).ConfigureAwait(false);
        }
    }

    private sealed class EventCollector : IEventSink
    {
        public readonly List<DomainEvent> Events = [];
        public long SkipBelow;

        public void OnEvent(in DomainEvent ledgerEvent)
        {
            if (ledgerEvent.Sequence >= SkipBelow) Events.Add(ledgerEvent);
        }
    }
}
