namespace Engine.Domain;

/// <summary>
/// Runs the credit lifecycle's code (docs/LIFECYCLE.md: TERMS and STATEMENT dues, reminders, stage changes, freeze and
/// cure, payments) and the event codec on a throwaway ledger, before an engine starts deciding. Without it the first
/// day on which many dues come up compiles those paths inside a tick on the decide thread: the lifecycle-ticks
/// benchmark saw its first busy tick take 7.7 ms, and no later one over 1 ms (bench/RESULTS.md). The real ledger is
/// not touched; the warm-up costs a few milliseconds at start.
/// </summary>
public static class LedgerWarmup
{
    private const long DayMs = EngineDays.DayMs;

    /// <summary>Enough calls for the runtime to count these methods as hot and recompile them optimized in the background.</summary>
    private const int AccountsDefault = 48;

    /// <summary>Plays a few months of lifecycle on <paramref name="accounts"/> scratch accounts; returns how many events of each type it produced.</summary>
    public static IReadOnlyDictionary<EventType, long> Run(int accounts = AccountsDefault)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(accounts, 1);
        var ledger = new Ledger(new LedgerOptions { ExpectedAccounts = accounts * 2, ExpectedRequestIds = accounts * 32, ExpectedAuthorizations = accounts * 2 });
        var sink = new EncodingSink();
        long now = new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var terms = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = 10 };
        var statement = new BillingTerms { Mode = BillingMode.Statement, StatementDay = 6 };
        int request = 0;
        string Next() => "warmup-" + (++request).ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int n = 0; n < accounts; n++)
        {
            string id = "warmup-terms-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string billed = "warmup-statement-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            ledger.Execute(Command.OpenAccount(Next(), id, "warmup", "USD", 1_000_000, terms), now, sink);
            ledger.Execute(Command.OpenAccount(Next(), billed, "warmup", "USD", 1_000_000, statement), now, sink);
            string authorization = Next();
            ledger.Execute(Command.Authorize(authorization, id, 5_000, "USD"), now, sink);
            ledger.Execute(Command.Capture(Next(), authorization, 5_000, final: true), now, sink);
            ledger.Execute(Command.ForcePost(Next(), id, 2_000), now, sink);
            ledger.Execute(Command.ForcePost(Next(), billed, 9_000), now, sink);
            ledger.Execute(Command.Repay(Next(), id, 1_000), now, sink);
        }
        // Day by day past the due date, the statement date and the WATCH and freeze thresholds (the default policy).
        for (int day = 0; day < 75; day++)
        {
            now += DayMs;
            ledger.Execute(Command.Tick(), now, sink);
            if (day == 40)
            {
                for (int n = 0; n < accounts; n++)
                {
                    string id = "warmup-terms-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    // A frozen account declines, then pays what is past due and is cured.
                    ledger.Execute(Command.Authorize(Next(), id, 10, "USD"), now, sink);
                    if (ledger.TryGetAccount(id, out Account account) && account.Lifecycle is { } lifecycle)
                        ledger.Execute(Command.Repay(Next(), id, Math.Max(1, lifecycle.PastDueMinor(EngineDays.DayOf(now)))), now, sink);
                }
            }
        }
        return sink.ByType;
    }

    /// <summary>Encodes each event as the decide thread does before it goes to the journal, then drops it.</summary>
    private sealed class EncodingSink : IEventSink
    {
        private readonly byte[] _buffer = new byte[EventCodec.EncodedSizeMax];
        public readonly Dictionary<EventType, long> ByType = [];

        public void OnEvent(in LedgerEvent ledgerEvent)
        {
            int length = EventCodec.Encode(ledgerEvent, _buffer);
            EventCodec.Decode(_buffer.AsSpan(0, length), out LedgerEvent decoded);
            ByType[decoded.Type] = ByType.GetValueOrDefault(decoded.Type) + 1;
        }
    }
}
