using Credit.V1;
using Engine.ReadModel;
using Grpc.Core;
using Grpc.Net.Client;

namespace Engine.Server.Replication;

/// <summary>What a replica does with its upstream's event stream (<see cref="UpstreamStream"/>).</summary>
internal interface IUpstreamHandler
{
    /// <summary>Checks the stream's response headers before any message is taken (head sequence, log epoch).</summary>
    void OnHeaders(Metadata headers);

    /// <summary>Takes one Subscribe message; throws when the copy can no longer be trusted.</summary>
    void OnMessage(SubscribeResponse response);

    /// <summary>The upstream answered OUT_OF_RANGE: rebuild from its snapshot.</summary>
    Task RebuildFromSnapshotAsync(CancellationToken ct);
}

/// <summary>
/// A read replica's subscription to its upstream (<c>Engine:LeaderUrl</c>) in EVENT_BLOCKS format, from the read
/// model's applied sequence + 1. While the upstream is unreachable it retries with exponential backoff
/// (Replica:ReconnectDelayMinMs doubling to Replica:ReconnectDelayMaxMs) and ±20% jitter, so replicas do not
/// reconnect in lockstep. OUT_OF_RANGE (fell behind the upstream's retention) hands over to the snapshot rebuild;
/// any other failure of the copy itself (a gap, an event that does not apply) faults the read model and stops.
/// </summary>
internal sealed class UpstreamStream(GrpcChannel channel, LedgerReadModel readModel, ReplicaOptions options, string leaderUrl, ILogger logger)
{
    private volatile bool _connected;
    private volatile string _lastError = "";
    private long _reconnects;

    public bool Connected => _connected;
    public string LastError => _lastError;
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Follows the upstream until <paramref name="ct"/> is cancelled or the copy faults.</summary>
    public async Task RunAsync(string name, IUpstreamHandler handler, CancellationToken ct)
    {
        var events = new EventService.EventServiceClient(channel);
        int delayMs = options.ReconnectDelayMinMs;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var request = new SubscribeRequest { FromSequence = readModel.AppliedSequence + 1, Format = SubscribeFormat.EventBlocks, SubscriberName = name };
                using AsyncServerStreamingCall<SubscribeResponse> call = events.Subscribe(request, cancellationToken: ct);
                Metadata headers = await call.ResponseHeadersAsync.ConfigureAwait(false);
                handler.OnHeaders(headers);
                _connected = true;
                _lastError = "";
                Interlocked.Increment(ref _reconnects);
                delayMs = options.ReconnectDelayMinMs;
                logger.LogInformation("replica: following {Leader} from sequence {Sequence}", leaderUrl, request.FromSequence);
                while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false)) handler.OnMessage(call.ResponseStream.Current);
                throw new IOException("the upstream ended the event stream");
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.OutOfRange)
            {
                _connected = false;
                _lastError = e.Status.Detail;
                logger.LogError("replica: fell behind the upstream's log retention: {Detail}. Rebuilding from its snapshot.", e.Status.Detail);
                try
                {
                    await handler.RebuildFromSnapshotAsync(ct).ConfigureAwait(false);
                }
                catch (Exception rebuild) when (!ct.IsCancellationRequested && rebuild is RpcException or IOException or InvalidDataException)
                {
                    _lastError = "snapshot rebuild failed: " + rebuild.Message;
                    logger.LogWarning("replica: {Error}; retrying in {DelayMs} ms", _lastError, delayMs);
                    delayMs = await BackOffAsync(delayMs, ct).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is RpcException or IOException or InvalidDataException or HttpRequestException)
            {
                _connected = false;
                _lastError = e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message;
                logger.LogWarning("replica: upstream {Leader} unavailable ({Error}); serving sequence {Sequence} and retrying in {DelayMs} ms",
                    leaderUrl, _lastError, readModel.AppliedSequence, delayMs);
                delayMs = await BackOffAsync(delayMs, ct).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Anything else (a gap, an event that does not apply) means this copy cannot be trusted: stop serving it.
                _connected = false;
                _lastError = e.Message;
                readModel.SetFault(e);
                logger.LogCritical(e, "replica: stopped at sequence {Sequence}; queries answer UNAVAILABLE", readModel.AppliedSequence);
                return;
            }
            finally
            {
                _connected = false;
            }
        }
    }

    /// <summary>Waits about <paramref name="delayMs"/> (±20% jitter); returns the next delay.</summary>
    private async Task<int> BackOffAsync(int delayMs, CancellationToken ct)
    {
        int jittered = (int)(delayMs * (0.8 + 0.4 * Random.Shared.NextDouble()));
        await Task.Delay(jittered, ct).ConfigureAwait(false);
        return Math.Min(delayMs * 2, options.ReconnectDelayMaxMs);
    }
}
