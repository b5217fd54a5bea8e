using Credit.V1;
using Google.Rpc;
using Grpc.Core;

namespace Engine.Server.Tests;

/// <summary>Small helpers for building requests and checking errors.</summary>
public static class Wire
{
    private static long _counter;

    /// <summary>A fresh id with a readable prefix.</summary>
    public static string Id(string prefix) => $"{prefix}-{Interlocked.Increment(ref _counter)}-{Guid.NewGuid():N}"[..Math.Min(64, prefix.Length + 34)];

    public static CallOptions Deadline(double seconds = 10) => new(deadline: DateTime.UtcNow.AddSeconds(seconds));

    public static async Task<string> OpenAccountAsync(TestServer server, long creditLimit, string currency = "USD", int overcapturePercent = 0)
    {
        string accountId = Id("acct");
        OpenAccountResponse reply = await server.Accounts.OpenAccountAsync(new OpenAccountRequest
        {
            RequestId = Id("open"),
            AccountId = accountId,
            CustomerId = "cust-1",
            Currency = currency,
            CreditLimit = creditLimit,
            OvercapturePercent = overcapturePercent,
        }, Deadline());
        Assert.Equal(Credit.V1.Status.Ok, reply.Status);
        return accountId;
    }

    /// <summary>Asserts INVALID_ARGUMENT with a google.rpc.BadRequest detail naming <paramref name="field"/>.</summary>
    public static void AssertInvalidArgument(RpcException e, string field)
    {
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Google.Rpc.Status? status = e.GetRpcStatus();
        Assert.NotNull(status);
        BadRequest? badRequest = status!.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        Assert.Contains(badRequest!.FieldViolations, violation => violation.Field == field);
    }

    /// <summary>Polls <paramref name="condition"/> until true or the timeout; for conditions with no event to await.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}
