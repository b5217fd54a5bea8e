using Engine.Core;
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

    /// <summary>
    /// The engine settings of the crash host. With <paramref name="truncateJournal"/>: frequent snapshots, small
    /// pages and segment files, and journal retention on, so a run truncates the journal and deletes segment files
    /// many times before it is killed. A restart must use the same settings (page and segment sizes are not stored).
    /// </summary>
    public static EngineOptions Options(string dataDirectory, bool truncateJournal) => truncateJournal
        ? new EngineOptions
        {
            DataDirectory = dataDirectory,
            SnapshotEveryEvents = 1_000,
            SnapshotIntervalSeconds = 0,
            TruncateJournal = true,
            Retention = new RetentionOptions { EventAgeMinMs = 0 }, // truncate as often as snapshots allow
            JournalPageSizeBits = 16,
            JournalMemorySizeBits = 18,
            JournalSegmentSizeBits = 17,
            JournalRecordBytesMax = 32 * 1024, // >= 4 × EventCodec.EncodedSizeMax (a 360-due ScheduleDues event)
        }
        : new EngineOptions { DataDirectory = dataDirectory, SnapshotEveryEvents = 5_000, SnapshotIntervalSeconds = 0, TruncateJournal = false };

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
