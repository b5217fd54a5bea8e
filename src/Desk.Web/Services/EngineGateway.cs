using Credit.V1;
using Engine.Client;
using Microsoft.Extensions.Options;

namespace Desk.Web.Services;

/// <summary>The desk's one door to the engine: the SDK client with the desk's deadline.</summary>
public sealed class EngineGateway(IOptions<DeskOptions> options) : IDisposable
{
    private readonly CreditEngineClient _client = new(options.Value.EngineUrl, new CreditEngineClientOptions
    {
        DefaultDeadline = TimeSpan.FromMilliseconds(options.Value.EngineDeadlineMs),
        MaxAttempts = 3,
        ApiKey = options.Value.EngineApiKey,
    });

    public CreditEngineClient Client => _client;

    /// <summary>The engine's lifecycle commands (billing terms, test clock) on the SDK's channel; the SDK has no wrapper for them.</summary>
    public LifecycleService.LifecycleServiceClient Lifecycle => _lifecycle ??= new LifecycleService.LifecycleServiceClient(_client.Channel);
    private LifecycleService.LifecycleServiceClient? _lifecycle;

    /// <summary>Live account state, read after at least <paramref name="minSequence"/> (read-your-writes); null when unknown or unreachable.</summary>
    public async Task<(Account? Account, string? Error)> GetAccountAsync(string accountId, long minSequence, CancellationToken ct = default)
    {
        try
        {
            var reply = await _client.GetAccountAsync(new GetAccountRequest { AccountId = accountId, MinSequence = minSequence }, ct: ct);
            return (reply.Account, null);
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
        {
            return (null, "the engine does not know this account");
        }
        catch (Grpc.Core.RpcException e)
        {
            return (null, $"engine unreachable: {e.Status.StatusCode} {e.Status.Detail}");
        }
    }

    public async Task<IReadOnlyList<LedgerEvent>> RecentEventsAsync(string accountId, int count, CancellationToken ct = default)
    {
        try
        {
            var events = new List<LedgerEvent>();
            long from = 0;
            // Pages oldest first; keep the newest `count`.
            for (int page = 0; page < 20; page++)
            {
                var reply = await _client.ListEventsAsync(new ListEventsRequest { AccountId = accountId, FromSequence = from, Limit = 1000 }, ct: ct);
                events.AddRange(reply.Events);
                if (reply.NextFromSequence == 0) break;
                from = reply.NextFromSequence;
            }
            return events.Count > count ? events.Skip(events.Count - count).ToList() : events;
        }
        catch (Grpc.Core.RpcException)
        {
            return [];
        }
    }

    public void Dispose() => _client.Dispose();
}
