namespace Engine.Domain.Tests;

/// <summary>
/// Seeded random streams mixing docs/SPEC.md commands with every lifecycle command and time jumps of hours to months:
/// invariants hold throughout (open dues ≤ max(posted, 0), deposits ≥ 0, balances representable), a ledger restored
/// from a mid-stream snapshot decides the rest identically, and the encoded log alone rebuilds the same state.
/// Not a reference model: it checks determinism and invariants, while LifecycleTests check each rule's outcome.
/// </summary>
public class LifecycleRandomStreamTests
{
    private const long HourMs = 3_600_000;

    [Theory]
    // 5 × 200,000 = 1,000,000 commands.
    [InlineData(1, 200_000)]
    [InlineData(7, 200_000)]
    [InlineData(42, 200_000)]
    [InlineData(2026, 200_000)]
    [InlineData(20_261_202, 200_000)]
    public void A_random_lifecycle_stream_keeps_its_invariants_and_replays_and_restores_identically(int seed, int commands)
    {
        var random = new Random(seed);
        var options = new LedgerOptions { LifecycleEventsPerTickMax = 50, DefaultHoldExpirySeconds = 3 * 24 * 3600 };
        var ledger = new Ledger(options);
        Ledger? restored = null;
        var sink = new CollectingSink();
        var restoredSink = new CollectingSink();
        var log = new List<byte[]>();
        var buffer = new byte[EventCodec.EncodedSizeMax];
        long now = LedgerHarness.T0;
        const int accounts = 30;
        var authorizations = new List<string>();
        var seen = new HashSet<EventType>();

        for (int i = 0; i < commands; i++)
        {
            now += random.Next(10) switch
            {
                < 6 => random.Next(60_000),
                < 9 => random.Next(1, 12) * HourMs,
                _ => random.Next(1, 60) * 24 * HourMs,
            };
            string account = $"a-{random.Next(accounts)}";
            Command command = Next(random, i, account, authorizations);
            if (command.Type != CommandType.Tick) Assert.Null(CommandValidator.Validate(command));

            sink.Clear();
            Reply reply = ledger.Execute(command, now, sink);
            if (restored is not null)
            {
                restoredSink.Clear();
                Reply again = restored.Execute(command, now, restoredSink);
                Assert.Equal(reply, again);
                Assert.Equal(sink.Events.Count, restoredSink.Events.Count);
            }
            foreach (LedgerEvent e in sink.Events)
            {
                int length = EventCodec.Encode(e, buffer);
                log.Add(buffer[..length]);
                seen.Add(e.Type);
            }
            if (command.Type == CommandType.Authorize && reply.Approved) authorizations.Add(command.RequestId);
            if (i % 2_000 == 1_999) ledger.CheckInvariants();
            if (i == commands / 2)
            {
                var stream = new MemoryStream();
                ledger.WriteSnapshot(stream);
                stream.Position = 0;
                restored = Ledger.ReadSnapshot(stream, options);
                Assert.Equal(ledger.ComputeDigest(), restored.ComputeDigest());
            }
        }

        ledger.CheckInvariants();
        Assert.Equal(ledger.ComputeDigest(), restored!.ComputeDigest());
        var rebuilt = new Ledger(options);
        foreach (byte[] bytes in log)
        {
            EventCodec.Decode(bytes, out LedgerEvent e);
            rebuilt.Apply(e);
        }
        rebuilt.CheckInvariants();
        Assert.Equal(ledger.ComputeDigest(), rebuilt.ComputeDigest());
        EventType[] lifecycleTypes = [.. Enum.GetValues<EventType>().Where(t => t >= EventType.BillingTermsSet)];
        Assert.All(lifecycleTypes, t => Assert.Contains(t, seen));
    }

    private static Command Next(Random random, int i, string account, List<string> authorizations)
    {
        string id = $"r-{i}";
        long amount = random.Next(6) == 0 ? random.Next(1, 2_000_000) : random.Next(1, 20_000);
        switch (random.Next(24))
        {
            case 0:
                return Command.OpenAccount(id, account, "c", "USD", random.Next(0, 500_000), random.Next(3) switch
                {
                    0 => new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = random.Next(0, 61) },
                    1 => new BillingTerms { Mode = BillingMode.Statement, StatementDay = random.Next(1, 29), GraceDays = random.Next(0, 30) },
                    _ => BillingTerms.None,
                });
            case 1:
                return Command.SetBillingTerms(id, account, random.Next(2) == 0
                    ? new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = random.Next(0, 61) }
                    : new BillingTerms { Mode = BillingMode.Statement, StatementDay = random.Next(1, 29), MinPaymentPercent = random.Next(0, 101), MinPaymentFloorMinor = random.Next(0, 5_000) });
            case 2:
                return Command.ScheduleDues(id, account, [.. Enumerable.Range(0, random.Next(1, 6)).Select(k => new ScheduledDue(LedgerHarness.T0 + random.Next(-30, 400) * 24 * HourMs, random.Next(1, 5_000)))]);
            case 3:
                return Command.SetDelinquencyPolicy(id, account, random.Next(3) == 0 ? null : new DelinquencyPolicy
                {
                    RemindBeforeDueDays = random.Next(0, 5), WatchAtDays = random.Next(0, 20), FreezeAtDays = random.Next(0, 40), ChargeOffAtDays = random.Next(0, 200),
                });
            case 4: return Command.TopUp(id, account, amount, random.Next(2) == 0 ? FundsKind.Prepaid : FundsKind.Deposit);
            case 5: return Command.ReleaseDeposit(id, account, amount);
            case 6: return Command.ApplyDeposit(id, account, amount);
            case 7: return Command.PayOut(id, account, amount);
            case 8: return random.Next(20) == 0 ? Command.AdvanceClock(id, random.Next(1, 90) * 24 * HourMs) : Command.Tick();
            case 9: return Command.Freeze(id, account);
            case 10: return Command.Unfreeze(id, account);
            case 11: return Command.CloseAccount(id, account);
            case 12:
            case 13:
                return Command.Repay(id, account, amount);
            case 14:
                return Command.Refund(id, account, amount);
            case 15:
            case 16:
                return Command.ForcePost(id, account, amount);
            case 17:
            case 18:
                return Command.Authorize(id, account, amount, "USD");
            case 19:
            case 20:
                return authorizations.Count == 0 ? Command.Tick() : Command.Capture(id, authorizations[random.Next(authorizations.Count)], amount, random.Next(2) == 0);
            default:
                return Command.Tick();
        }
    }
}
