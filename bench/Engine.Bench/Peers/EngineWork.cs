using Engine.Core;
using Engine.Domain;

namespace Engine.Bench.Peers;

/// <summary>What the engine rows share: request ids, the outcome mapping, opening accounts in-process and summing held.</summary>
internal static class EngineWork
{
    public const string Currency = "USD";

    public const string PerAuthorization =
        "validate; idempotency lookup and record (request_id kept for replays); account checks (status, currency, controls, open-holds cap, overflow, credit); " +
        "an authorization record with its expiry; one AUTHORIZED/DECLINED ledger event appended to the journal and fsync'd (group commit) before the reply";

    /// <summary>A new string per request, as an id read off the network would be; unique within a run, so nothing is a replay.</summary>
    public static string RequestId(long requestIndex) => $"peers-auth-{requestIndex}";

    /// <summary>Approved, declined for credit, or an error: any other status means the engine did not do the work the peers do.</summary>
    public static bool IsApproved(Status status) => status switch
    {
        Status.Ok => true,
        Status.InsufficientCredit => false,
        _ => throw new InvalidOperationException($"authorize answered {status}"),
    };

    public static bool IsApproved(Credit.V1.Status status) => status switch
    {
        Credit.V1.Status.Ok => true,
        Credit.V1.Status.InsufficientCredit => false,
        _ => throw new InvalidOperationException($"authorize answered {status}"),
    };

    public static async Task OpenAccountsAsync(CreditEngine engine, IReadOnlyList<string> accountIds, long creditLimitMinor)
    {
        const int chunk = 4096;
        var commands = new Command[chunk];
        var replies = new Reply[chunk];
        for (int start = 0; start < accountIds.Count; start += chunk)
        {
            int count = Math.Min(chunk, accountIds.Count - start);
            for (int i = 0; i < count; i++)
            {
                string accountId = accountIds[start + i];
                commands[i] = Command.OpenAccount($"open-{accountId}", accountId, $"cust-{accountId}", Currency, creditLimitMinor);
            }
            await engine.SubmitBatchAsync(commands.AsMemory(0, count), replies, waitForCapacity: true).ConfigureAwait(false);
            for (int i = 0; i < count; i++)
            {
                if (replies[i].Status != Status.Ok) throw new InvalidOperationException($"OpenAccount {accountIds[start + i]} answered {replies[i].Status}");
            }
        }
    }

    public static long SumHeld(Ledger ledger, IReadOnlyList<string> accountIds)
    {
        if (ledger.AccountCount != accountIds.Count) throw new InvalidOperationException($"the ledger has {ledger.AccountCount} accounts, the run opened {accountIds.Count}");
        long total = 0;
        foreach (string accountId in accountIds)
        {
            if (!ledger.TryGetAccount(accountId, out Account account)) throw new InvalidOperationException($"account {accountId} is missing from the ledger");
            total = checked(total + account.HeldMinor);
        }
        return total;
    }

    public static void DeleteDirectory(string path)
    {
        try
        {
            if (path.Length > 0 && Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"could not delete {path}: {e.Message}");
        }
    }
}
