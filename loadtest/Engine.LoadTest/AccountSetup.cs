using System.Diagnostics;
using Credit.V1;

namespace Engine.LoadTest;

/// <summary>
/// Opens the run's accounts through Execute batches before the load starts. Idempotent across runs: the request id
/// is derived from the account id, so an account opened by an earlier run with the same prefix answers as a replay
/// (or ACCOUNT_EXISTS / REQUEST_ID_REUSED when it was opened differently), and all of these count as ready.
/// Commands the engine could not take (ring full) are resent, a bounded number of times.
/// </summary>
public static class AccountSetup
{
    public const int BatchSize = 1_000;
    public const int BatchesInFlightMax = 4;
    public const int AttemptsMax = 20;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(50);

    public sealed record Outcome(int Opened, int Existing, TimeSpan Elapsed);

    /// <exception cref="InvalidOperationException">An account could not be opened (another status, or still refused after every attempt).</exception>
    public static async Task<Outcome> OpenAccountsAsync(ILoadTarget execute, LoadTestOptions options, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        int opened = 0, existing = 0;
        var pending = new Queue<int>(Enumerable.Range(0, options.Accounts));
        for (int attempt = 1; pending.Count > 0; attempt++)
        {
            if (attempt > AttemptsMax) throw new InvalidOperationException($"{pending.Count} accounts still refused (engine unavailable) after {AttemptsMax} attempts");
            if (attempt > 1) await Task.Delay(RetryDelay, ct).ConfigureAwait(false);
            var refused = new List<int>();
            var sends = new List<Task<(int[] Accounts, IReadOnlyList<CommandReply> Replies)>>();
            while (pending.Count > 0 || sends.Count > 0)
            {
                while (pending.Count > 0 && sends.Count < BatchesInFlightMax)
                {
                    int[] accounts = new int[Math.Min(BatchSize, pending.Count)];
                    for (int i = 0; i < accounts.Length; i++) accounts[i] = pending.Dequeue();
                    sends.Add(SendAsync(execute, accounts, options, ct));
                }
                Task<(int[] Accounts, IReadOnlyList<CommandReply> Replies)> done = await Task.WhenAny(sends).ConfigureAwait(false);
                sends.Remove(done);
                (int[] sent, IReadOnlyList<CommandReply> replies) = await done.ConfigureAwait(false);
                for (int i = 0; i < sent.Length; i++)
                {
                    switch (replies[i].Status)
                    {
                        case Status.Ok when !replies[i].Replayed:
                            opened++;
                            break;
                        case Status.Ok or Status.AccountExists or Status.RequestIdReused:
                            existing++;
                            break;
                        case Status.EngineUnavailable:
                            refused.Add(sent[i]);
                            break;
                        default:
                            throw new InvalidOperationException($"OpenAccount {Workload.AccountId(options.AccountPrefix, sent[i])}: {StatusLabels.Of(replies[i].Status, replies[i].ResponseCode)}");
                    }
                }
            }
            foreach (int account in refused) pending.Enqueue(account);
        }
        return new Outcome(opened, existing, clock.Elapsed);
    }

    private static async Task<(int[] Accounts, IReadOnlyList<CommandReply> Replies)> SendAsync(ILoadTarget execute, int[] accounts, LoadTestOptions options, CancellationToken ct)
    {
        var commands = new Command[accounts.Length];
        for (int i = 0; i < accounts.Length; i++)
        {
            string accountId = Workload.AccountId(options.AccountPrefix, accounts[i]);
            commands[i] = new Command
            {
                OpenAccount = new OpenAccountRequest
                {
                    RequestId = "open-" + accountId,
                    AccountId = accountId,
                    CustomerId = "lt-customer",
                    Currency = Workload.Currency,
                    CreditLimit = options.CreditLimitMinor,
                },
            };
        }
        IReadOnlyList<CommandReply> replies = await execute.SendAsync(commands, ct).ConfigureAwait(false);
        return (accounts, replies);
    }
}
