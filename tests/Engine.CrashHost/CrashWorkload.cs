using Engine.Domain;

namespace Engine.CrashHost;

/// <summary>
/// The deterministic workload of the crash host: command number n is always the same command, so a test
/// can rebuild any acknowledged command from its number and resubmit it after the crash.
/// </summary>
public static class CrashWorkload
{
    public const string Currency = "EUR";
    public const long CreditLimitMinor = 5_000_00;

    public static string AccountId(int index) => $"crash-acct-{index}";

    public static Command OpenAccount(int index) =>
        Command.OpenAccount($"crash-open-{index}", AccountId(index), $"crash-cust-{index}", Currency, CreditLimitMinor);

    /// <summary>Authorizations mostly (some decline once accounts fill up), captures of earlier ones, repayments.</summary>
    public static Command For(long n, int accounts)
    {
        string requestId = $"crash-{n}";
        string account = AccountId((int)(n % accounts));
        return (n % 8) switch
        {
            5 => Command.Capture(requestId, $"crash-{n - 1}", 50 + n % 400, final: n % 3 == 0),
            7 => Command.Repay(requestId, account, 100 + n % 2_000),
            _ => Command.Authorize(requestId, account, 100 + n % 900, Currency),
        };
    }
}
