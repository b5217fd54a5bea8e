using Grpc.Core;

namespace Engine.Client;

/// <summary>
/// When and how long to wait before resending. Only UNAVAILABLE (not running, connection lost) and
/// RESOURCE_EXHAUSTED (engine ring full) are retried: for those the engine either did not take the command or, if
/// the connection broke after it did, a resend with the same request_id returns the recorded reply (replayed = true).
/// Everything else (INVALID_ARGUMENT, DEADLINE_EXCEEDED, …) is final. Backoff: exponential with full jitter.
/// </summary>
public static class RetryPolicy
{
    public static bool IsRetryable(StatusCode code) => code is StatusCode.Unavailable or StatusCode.ResourceExhausted;

    /// <summary>
    /// For reads that resume by position (Subscribe): also INTERNAL when no server sent it — the HTTP/2 connection
    /// closed under the call (a server shutting down sends GOAWAY with NO_ERROR, which grpc-dotnet reports as INTERNAL
    /// "Error starting gRPC call"). Reading again from the same position is always safe.
    /// </summary>
    public static bool IsRetryableRead(RpcException e) =>
        IsRetryable(e.StatusCode) || (e.StatusCode == StatusCode.Internal && e.Status.DebugException is System.Net.Http.HttpRequestException);

    public static TimeSpan Backoff(int attempt, CreditEngineClientOptions options)
    {
        double ceilingMs = Math.Min(options.MaxBackoff.TotalMilliseconds, options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20)));
        return TimeSpan.FromMilliseconds(Math.Max(1, Random.Shared.NextDouble() * ceilingMs));
    }
}
