using BenchmarkDotNet.Attributes;
using Engine.Domain;

namespace Engine.Bench.Micro;

/// <summary>
/// Decide + apply (+ idempotency) on one thread, no I/O: the single writer's own cost per command, which bounds
/// the whole engine. Back of the envelope: a random account lookup among 1M (~130 ns, a cache miss or two),
/// two hashes of the request (~80 ns), an idempotency insert into a sized table (~150 ns), the event itself
/// (~100 ns) → ≈ 0.5–1 µs per repayment; an authorization adds a hold object, its id map entry and the expiry heap.
/// Commands are stamped with their keys in the setup, as the engine's producers do (issue 10): the measured cost is
/// the decide thread's only. Before that change the hashing was part of it.
/// Run: <c>dotnet run -c Release --project bench/Engine.Bench -- micro --filter '*LedgerBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
public class LedgerBenchmarks
{
    private const int Accounts = 1_000_000;
    private const int CommandsPerInvoke = 100_000;
    private readonly NullSink _sink = new();
    private Ledger _ledger = null!;
    private Command[] _authorizations = null!;
    private Command[] _repayments = null!;
    private Command[] _replays = null!;
    private long _round;

    [GlobalSetup]
    public void Setup()
    {
        _ledger = new Ledger(new LedgerOptions { ExpectedAccounts = Accounts, ExpectedRequestIds = 20_000_000, ExpectedAuthorizations = 10_000_000 });
        for (int i = 0; i < Accounts; i++)
        {
            _ledger.Execute(Command.OpenAccount($"open-{i}", $"acct-{i:D7}", $"cust-{i}", "USD", 1_000_000_000), 1, _sink);
        }
        _replays = new Command[CommandsPerInvoke];
        for (int i = 0; i < CommandsPerInvoke; i++)
        {
            _replays[i] = Command.OpenAccount($"open-{i}", $"acct-{i:D7}", $"cust-{i}", "USD", 1_000_000_000);
            Fingerprints.StampKeys(ref _replays[i]);
        }
    }

    [IterationSetup]
    public void MakeCommands()
    {
        // Fresh request ids every iteration: a repeated id would be a replay, not a decision.
        var random = new Random(7);
        long round = _round++;
        _authorizations = new Command[CommandsPerInvoke];
        _repayments = new Command[CommandsPerInvoke];
        for (int i = 0; i < CommandsPerInvoke; i++)
        {
            _authorizations[i] = Command.Authorize($"a{round}-{i}", $"acct-{random.Next(Accounts):D7}", random.Next(100, 10_000), "USD");
            _repayments[i] = Command.Repay($"r{round}-{i}", $"acct-{random.Next(Accounts):D7}", random.Next(100, 10_000));
            // The producer's share (CreditEngine.Publish on the submitting thread), outside the measured decide+apply.
            Fingerprints.StampKeys(ref _authorizations[i]);
            Fingerprints.StampKeys(ref _repayments[i]);
        }
    }

    [Benchmark(OperationsPerInvoke = CommandsPerInvoke)]
    public void Authorize()
    {
        for (int i = 0; i < _authorizations.Length; i++) _ledger.Execute(_authorizations[i], 2, _sink);
    }

    [Benchmark(OperationsPerInvoke = CommandsPerInvoke)]
    public void Repay()
    {
        for (int i = 0; i < _repayments.Length; i++) _ledger.Execute(_repayments[i], 2, _sink);
    }

    [Benchmark(OperationsPerInvoke = CommandsPerInvoke)]
    public void ReplayOfKnownRequest()
    {
        for (int i = 0; i < _replays.Length; i++) _ledger.Execute(_replays[i], 2, _sink);
    }

    private sealed class NullSink : IEventSink
    {
        public void OnEvent(in LedgerEvent ledgerEvent) { }
    }
}
