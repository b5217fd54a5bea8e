using System.Threading.Channels;
using Engine.Domain;
using Engine.Server.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Engine.Server.Grpc;

/// <summary>
/// credit.v1.PipelineService.Execute on the <see cref="ExecuteWire"/> marshallers: the same contract and wire format as
/// <see cref="PipelineGrpcService"/> (which serves it when Server:ZeroCopyExecute is false), without protobuf objects
/// per command — request bytes are decoded straight into a pooled command array handed to the engine, and replies are
/// encoded straight from the engine's reply array. The two loops per stream and their bounds are those of
/// <see cref="PipelineGrpcService"/>.
/// </summary>
public static class ZeroCopyPipelineService
{
    /// <summary>The generated service's descriptor: grpc-dotnet's reflection looks it up as <c>Descriptor</c> on the type declaring the bound service class.</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => Credit.V1.PipelineService.Descriptor;

    /// <summary>Execute under its generated name, with <see cref="ExecuteWire"/>'s marshallers.</summary>
    public static readonly Method<ExecuteBatch, ExecuteReplies> ExecuteMethod = new(
        MethodType.DuplexStreaming, "credit.v1.PipelineService", "Execute", ExecuteWire.RequestMarshaller, ExecuteWire.ResponseMarshaller);

    public static void BindService(ServiceBinderBase binder, Handler? service) =>
        binder.AddMethod(ExecuteMethod, service is null ? null : service.Execute);

    /// <summary>The Execute handler (one per call, from DI).</summary>
    [BindServiceMethod(typeof(ZeroCopyPipelineService), nameof(BindService))]
    public class Handler(EngineHost host, IOptions<ServerOptions> options, IHostApplicationLifetime lifetime)
    {
        private readonly ServerOptions _options = options.Value;

        private sealed record PendingBatch(ExecuteBatch Batch, Reply[] Replies, Task Completion);

        // Virtual because grpc-dotnet's binder looks the handler up as a virtual method declared on the bound type.
        public virtual async Task Execute(IAsyncStreamReader<ExecuteBatch> requestStream, IServerStreamWriter<ExecuteReplies> responseStream, ServerCallContext context)
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
                    ExecuteBatch batch = requestStream.Current;
                    if (batch.Count == 0 || batch.Count > _options.ExecuteBatchSizeMax)
                    {
                        refusal = GrpcErrors.InvalidArgument("commands", $"a batch holds 1..{_options.ExecuteBatchSizeMax} commands; this one holds {batch.Count}");
                        batch.Return();
                        break;
                    }
                    if (batch.Error is { } error)
                    {
                        refusal = GrpcErrors.InvalidArgument(error);
                        batch.Return();
                        break;
                    }
                    AuditActor.Stamp(batch.Commands.AsSpan(0, batch.Count), context);
                    var replies = new Reply[batch.Count];
                    Task completion = host.Engine.SubmitBatchAsync(batch.Memory, replies, waitForCapacity: false).AsTask();
                    await pending.Writer.WriteAsync(new PendingBatch(batch, replies, completion), stopping.Token).ConfigureAwait(false);
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

        private static async Task WriteRepliesAsync(ChannelReader<PendingBatch> pending, IServerStreamWriter<ExecuteReplies> responseStream, CancellationToken ct)
        {
            await foreach (PendingBatch batch in pending.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                try
                {
                    await batch.Completion.ConfigureAwait(false);
                    if (ct.IsCancellationRequested) continue; // the client is gone: drain the pending batches, write nothing
                    await responseStream.WriteAsync(new ExecuteReplies(batch.Batch.BatchId, batch.Batch.Commands, batch.Replies, batch.Batch.Count), ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
                {
                    // The call ended under us; the commands are durable and a resend gets their recorded replies.
                }
                finally
                {
                    batch.Batch.Return();
                }
            }
        }
    }
}
