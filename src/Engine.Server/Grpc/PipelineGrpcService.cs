using System.Threading.Channels;
using Credit.V1;
using Engine.Domain;
using Engine.Server.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using DomainCommand = Engine.Domain.Command;

namespace Engine.Server.Grpc;

/// <summary>
/// credit.v1.PipelineService.Execute: batches of commands over one bidirectional stream, replies in order.
/// <para>
/// Two loops per stream. The reader validates a whole batch (one bad command refuses the batch, so nothing of it is
/// journaled), submits it to the engine without waiting for ring capacity, and queues the pending batch in a
/// bounded channel (Server:ExecuteInFlightBatchesMax). The writer awaits pending batches in order and writes their
/// replies. When the channel is full the reader stops reading the request stream, so HTTP/2 flow control slows the
/// client: per-stream memory is bounded by batches-in-flight × batch size.
/// </para>
/// </summary>
public sealed class PipelineGrpcService(EngineHost host, IOptions<ServerOptions> options, IHostApplicationLifetime lifetime) : PipelineService.PipelineServiceBase
{
    private readonly ServerOptions _options = options.Value;

    private sealed record PendingBatch(ulong BatchId, DomainCommand[] Commands, Reply[] Replies, Task Completion);

    public override async Task Execute(IAsyncStreamReader<ExecuteRequest> requestStream, IServerStreamWriter<ExecuteResponse> responseStream, ServerCallContext context)
    {
        host.ThrowIfReplica();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var pending = Channel.CreateBounded<PendingBatch>(new BoundedChannelOptions(_options.ExecuteInFlightBatchesMax)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        Task writer = WriteRepliesAsync(pending.Reader, responseStream, context.CancellationToken);
        RpcException? refusal = null;
        try
        {
            while (await requestStream.MoveNext(stopping.Token).ConfigureAwait(false))
            {
                ExecuteRequest request = requestStream.Current;
                if (ToCommands(request, context) is not { } commands)
                {
                    refusal = InvalidBatch(request);
                    break;
                }
                var replies = new Reply[commands.Length];
                Task completion = host.Engine.SubmitBatchAsync(commands, replies, waitForCapacity: false).AsTask();
                await pending.Writer.WriteAsync(new PendingBatch(request.BatchId, commands, replies, completion), stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            refusal = GrpcErrors.NotRunning("the server is shutting down; resend unanswered batches (same request_ids) to another instance or later");
        }
        catch (InvalidCommandException e)
        {
            refusal = GrpcErrors.InvalidArgument(e.Error);
        }
        catch (RpcException e)
        {
            refusal = e;
        }
        finally
        {
            pending.Writer.TryComplete();
        }
        // Replies to every batch already submitted go out before the stream ends, whatever ends it.
        await writer.ConfigureAwait(false);
        if (refusal is not null) throw refusal;
    }

    private async Task WriteRepliesAsync(ChannelReader<PendingBatch> pending, IServerStreamWriter<ExecuteResponse> responseStream, CancellationToken ct)
    {
        await foreach (PendingBatch batch in pending.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            await batch.Completion.ConfigureAwait(false);
            var response = new ExecuteResponse { BatchId = batch.BatchId };
            for (int i = 0; i < batch.Commands.Length; i++)
                response.Replies.Add(ReplyMapping.ToCommandReply(batch.Commands[i], batch.Replies[i]));
            if (ct.IsCancellationRequested) continue; // the client is gone: drain the pending batches, write nothing
            try
            {
                await responseStream.WriteAsync(response, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
            {
                // The call ended under us; the commands are durable and a resend gets their recorded replies.
            }
        }
    }

    /// <summary>Maps and validates a whole batch; throws <see cref="InvalidCommandException"/> naming <c>commands[i].…</c>. Null when its size is out of range.</summary>
    private DomainCommand[]? ToCommands(ExecuteRequest request, ServerCallContext context)
    {
        int count = request.Commands.Count;
        if (count == 0 || count > _options.ExecuteBatchSizeMax) return null;
        var commands = new DomainCommand[count];
        for (int i = 0; i < count; i++) commands[i] = CommandMapping.ToDomain(request.Commands[i], i);
        AuditActor.Stamp(commands, context);
        return commands;
    }

    private RpcException InvalidBatch(ExecuteRequest request) =>
        GrpcErrors.InvalidArgument("commands", $"a batch holds 1..{_options.ExecuteBatchSizeMax} commands; this one holds {request.Commands.Count}");
}
