using Engine.Core;
using Engine.Domain;
using Engine.Journal;

namespace Engine.Bench.Peers;

/// <summary>
/// The engine in this process: <see cref="CreditEngine.SubmitAsync"/> per authorization, which returns once the
/// outcome's event is fsync'd (group commit). The read-back stops the engine without a snapshot and rebuilds the
/// ledger from the journal on disk (<see cref="LedgerRecovery"/>), so the cross-check also proves the events were durable.
/// </summary>
internal sealed class EngineInProcessSystem : IAuthorizeSystem
{
    private readonly Dictionary<string, string> _settings = new(StringComparer.Ordinal);
    private string _dataDirectory = "";
    private CreditEngine? _engine;
    private IReadOnlyList<string> _accountIds = [];

    public string Name => PeersOptions.EngineInProcess;
    public string PerAuthorization => EngineWork.PerAuthorization;
    public bool Durable { get; private set; }
    public IReadOnlyDictionary<string, string> Settings => _settings;
    public IReadOnlyCollection<int> ServerProcessIds => [];

    public async Task StartAsync(AuthorizeWorkload workload, PeersOptions options, CancellationToken ct)
    {
        _dataDirectory = Path.Combine(Path.GetTempPath(), $"engine-peers-inprocess-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var engineOptions = new EngineOptions
        {
            DataDirectory = _dataDirectory,
            AcknowledgeBeforeFsync = false,
            SnapshotEveryEvents = 0,
            SnapshotIntervalSeconds = 0,
            // The read-back replays the whole journal, so it checks what is on disk, not a snapshot of memory.
            SnapshotOnShutdown = false,
        };
        _engine = CreditEngine.Start(engineOptions, logger: new ConsoleLineLogger("engine"));
        _accountIds = workload.AccountIds;
        await EngineWork.OpenAccountsAsync(_engine, workload.AccountIds, options.CreditLimitMinor).ConfigureAwait(false);
        _settings["acknowledge_before_fsync"] = _engine.Options.AcknowledgeBeforeFsync ? "true" : "false";
        _settings["wait_strategy"] = _engine.Options.WaitStrategy;
        _settings["client"] = "CreditEngine.SubmitAsync, one command per call";
        Durable = !_engine.Options.AcknowledgeBeforeFsync;
    }

    public async ValueTask<bool> AuthorizeAsync(long requestIndex, int accountIndex, long amountMinor, CancellationToken ct)
    {
        Reply reply = await _engine!.SubmitAsync(
            Command.Authorize(EngineWork.RequestId(requestIndex), _accountIds[accountIndex], amountMinor, EngineWork.Currency), waitForCapacity: true).ConfigureAwait(false);
        return EngineWork.IsApproved(reply.Status);
    }

    public async Task<long> ReadTotalHeldAsync(CancellationToken ct)
    {
        CreditEngine engine = _engine!;
        await engine.StopAsync(ct).ConfigureAwait(false);
        if (engine.Fault is not null) throw new InvalidOperationException("the engine faulted during the run", engine.Fault);
        EngineOptions options = engine.Options;
        using EventJournal journal = EventJournal.Open(options.JournalOptionsAt(Path.Combine(options.DataDirectory, "journal")));
        var snapshots = new SnapshotStore(Path.Combine(options.DataDirectory, "snapshots"), options.SnapshotsKept);
        (Ledger ledger, RecoveryReport report) = LedgerRecovery.Recover(journal, snapshots, options.Ledger, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        _settings["read_back"] = $"ledger rebuilt from the journal on disk: {report.ReplayedEvents} events replayed (snapshot at {report.SnapshotSequence})";
        return EngineWork.SumHeld(ledger, _accountIds);
    }

    public async ValueTask DisposeAsync()
    {
        if (_engine is not null) await _engine.DisposeAsync().ConfigureAwait(false);
        _engine = null;
        EngineWork.DeleteDirectory(_dataDirectory);
    }
}
