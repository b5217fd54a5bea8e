using System.Threading.RateLimiting;
using Engine.Server.Grpc;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Engine.Server.Edge;

/// <summary>
/// The optional rate limit per principal (<c>Server:RateLimit:*</c>): a token bucket per principal from
/// System.Threading.RateLimiting. A gRPC interceptor rather than ASP.NET Core's rate-limiting middleware, because the
/// middleware refuses with a bare HTTP 429 while a gRPC client must see a gRPC status: here a refusal is
/// RESOURCE_EXHAUSTED naming the settings. A unary or server-streaming call takes one token when it starts; a client or
/// bidirectional stream (Execute) takes one per message it sends. Health checks and reflection are not limited, so an
/// orchestrator can always tell the server is alive. Buckets are created on a principal's first call; idle ones are
/// dropped by the limiter's own idle-partition sweep.
/// </summary>
public sealed class RateLimitInterceptor : Interceptor, IDisposable
{
    private readonly RateLimitOptions _options;
    private readonly PartitionedRateLimiter<string> _limiter;

    public RateLimitInterceptor(RateLimitOptions options)
    {
        _options = options;
        _limiter = PartitionedRateLimiter.Create<string, string>(principal => RateLimitPartition.GetTokenBucketLimiter(principal, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.TokensMax,
            TokensPerPeriod = options.TokensPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0, // refuse at once: a queue here would hide overload from the caller (docs/SPEC.md "Overload")
            AutoReplenishment = true,
        }));
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Take(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Take(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        IsExempt(context) ? continuation(requestStream, context) : continuation(new LimitedReader<TRequest>(requestStream, this, context), context);

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        IsExempt(context) ? continuation(requestStream, responseStream, context) : continuation(new LimitedReader<TRequest>(requestStream, this, context), responseStream, context);

    private void Take(ServerCallContext context)
    {
        if (IsExempt(context)) return;
        string principal = CallPrincipal.Of(context);
        using RateLimitLease lease = _limiter.AttemptAcquire(principal);
        if (!lease.IsAcquired) throw Refused(principal);
    }

    private static bool IsExempt(ServerCallContext context) => context.Method.StartsWith("/grpc.", StringComparison.Ordinal);

    private RpcException Refused(string principal)
    {
        EdgeMetrics.CountRefused("Server:RateLimit");
        return new(new global::Grpc.Core.Status(StatusCode.ResourceExhausted,
            $"rate limit exceeded for principal '{principal}': Server:RateLimit:TokensPerSecond={_options.TokensPerSecond}, " +
            $"Server:RateLimit:TokensMax={_options.TokensMax}; retry with backoff (same request_id)"));
    }

    public void Dispose() => _limiter.Dispose();

    /// <summary>A client stream that takes a token for every message it hands on.</summary>
    private sealed class LimitedReader<T>(IAsyncStreamReader<T> inner, RateLimitInterceptor owner, ServerCallContext context) : IAsyncStreamReader<T>
    {
        private readonly string _principal = CallPrincipal.Of(context);

        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken).ConfigureAwait(false)) return false;
            using RateLimitLease lease = owner._limiter.AttemptAcquire(_principal);
            if (lease.IsAcquired) return true;
            // Never handed on: a pooled Execute batch goes back to its pool here.
            if (inner.Current is ExecuteBatch pooled) pooled.Return();
            throw owner.Refused(_principal);
        }
    }
}
