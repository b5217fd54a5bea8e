using System.Runtime.CompilerServices;
using Engine.Domain;
using Engine.Journal;
using Engine.Ring;

namespace Engine.Core;

/// <summary>
/// The in-process engine: a ring of command slots drained by two stages on their own threads —
/// decide (the single writer over the <see cref="Ledger"/>) and journal (group commit: one fsync per batch, then the
/// batch's replies, released to the thread pool in a few work items per commit). <see cref="SubmitAsync"/> returns only after the
/// command's event is durable (unless the benchmark-only <see cref="EngineOptions.AcknowledgeBeforeFsync"/> is on).
/// Overload is refused at once with <see cref="Status.EngineUnavailable"/>: the ring is the only queue.
/// </summary>
public sealed class CreditEngine : IAsyncDisposable
{
    private static readonly Reply Unavailable = new() { Status = Status.EngineUnavailable };

    private readonly EngineOptions _options;
    private readonly ILogger _logger;
    private readonly DataDirectoryLock _directoryLock;
    private readonly EventJournal _journal;
    private readonly SnapshotStore _snapshots;
    private readonly JournalRetention? _retention;
    private readonly ConsumerCursors _cursors;
    private readonly FasterIdempotencySpillStore? _idempotencySpill;
    private readonly Ledger _ledger;
    private readonly RingBuffer<CommandSlot> _ring;
    private readonly DecideHandler _decideHandler;
    private readonly JournalHandler _journalHandler;
    private readonly BatchEventProcessor<CommandSlot> _decide;
    private readonly BatchEventProcessor<CommandSlot> _commit;
    private readonly Timer _ticker;
    private readonly EngineMetrics _metrics = new();
    private volatile bool _accepting;
    private volatile Exception? _fault;
    // Completed once, with the first stage failure: the host stops the process on it.
    private readonly TaskCompletionSource<Exception> _faulted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _faultDrainStarted;
    // Submitters between their accepting-check and their publish; shutdown waits for them to leave so the cursor is final.
    private int _activeSubmitters;
    private int _stopState;
    /// <summary>Below this many accounts a recovered ledger is small enough that promoting it later costs little.</summary>
    private const int CompactAfterRecoveryAccountsMin = 10_000;

    private CreditEngine(EngineOptions options, TimeProvider clock, ILogger logger)
    {
        options.Validate();
        _options = options;
        _logger = logger;
        // Before anything is opened: a second engine on this directory must not even read a log another one writes.
        _directoryLock = DataDirectoryLock.Acquire(options.DataDirectory, "engine");
        try
        {
            _journal = EventJournal.Open(options.JournalOptionsAt(Path.Combine(options.DataDirectory, "journal")), logger);
        }
        catch
        {
            _directoryLock.Dispose();
            throw;
        }
        try
        {
            _snapshots = new SnapshotStore(Path.Combine(options.DataDirectory, "snapshots"), options.SnapshotsKept, logger) { FaultInjector = options.StorageFaults };
            // Derived state, refilled by recovery (snapshot, then replay): see IdempotencyTable.
            string spillDirectory = Path.Combine(options.DataDirectory, "idempotency");
            if (options.IdempotencySpill)
                _idempotencySpill = new FasterIdempotencySpillStore(spillDirectory, options.IdempotencySpillIndexSizeBits, options.IdempotencySpillMemorySizeBits, options.IdempotencySpillPageSizeBits);
            else if (Directory.Exists(spillDirectory))
                Directory.Delete(spillDirectory, recursive: true);
            (_ledger, Recovery) = LedgerRecovery.Recover(_journal, _snapshots, options.Ledger, logger, _idempotencySpill, options.Recovery);
            _cursors = ConsumerCursors.Open(options.DataDirectory, options.Retention.CursorsMax, logger);
        }
        catch
        {
            _idempotencySpill?.Dispose();
            _journal.Dispose();
            _directoryLock.Dispose();
            throw;
        }

        // Compiles the lifecycle's paths on a scratch ledger, so the first day many dues come up does not do it inside a
        // tick on the decide thread; then one compacting collection puts the recovered ledger, which lives as long as
        // the engine, in the oldest generation before any command arrives (bench/RESULTS.md "A month of lifecycle ticks").
        LedgerWarmup.Run();
        if (_ledger.AccountCount >= CompactAfterRecoveryAccountsMin) GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);

        IWaitStrategy wait = CreateWaitStrategy(options.WaitStrategy);
        _ring = new RingBuffer<CommandSlot>(options.RingSize, wait);
        if (options.TruncateJournal)
        {
            _retention = new JournalRetention(_journal, _snapshots, _cursors, options, clock, logger);
            // A journal that grew before retention was switched on is trimmed at once. The decide thread has not
            // started, so the snapshot store has no writer during the listing.
            _retention.OnSnapshotsChanged();
        }
        _decideHandler = new DecideHandler(_ledger, _journal, _snapshots, options, clock, _retention, _idempotencySpill, _metrics, logger);
        // Before the decide thread starts: GetStatus and the log see the recovered window at once.
        _decideHandler.PublishWindow(clock.GetUtcNow().ToUnixTimeMilliseconds());
        _journalHandler = new JournalHandler(_journal, _metrics, _ring);
        _decide = new BatchEventProcessor<CommandSlot>(_ring, _ring.NewBarrier(), _decideHandler, options.DecideBatchSizeMax, OnFault);
        _commit = new BatchEventProcessor<CommandSlot>(_ring, _ring.NewBarrier(_decide.Sequence), _journalHandler, options.CommitBatchSizeMax, OnFault);
        // The journal stage answers what it commits: producers reuse a slot once it is committed and answered.
        _ring.AddGatingSequences(_commit.Sequence);
        _decide.Start("engine-decide");
        _commit.Start("engine-journal");
        // Published and not yet replied: what the ring holds. Both sequences only grow; a racy pair of reads is off by a batch at most.
        _metrics.Observe(this, () => Math.Max(0, _ring.Cursor - _commit.Sequence.Value), _ring.BufferSize, clock);
        _accepting = true;
        _ticker = new Timer(_ => PublishTick(), null, options.TickIntervalMs, options.TickIntervalMs);
        if (options.AcknowledgeBeforeFsync)
            logger.LogWarning("Engine:AcknowledgeBeforeFsync is ON. Replies are sent BEFORE events are fsync'd; a crash can lose " +
                "acknowledged commands. Benchmarks only.");
    }

    /// <summary>Recovers state from <see cref="EngineOptions.DataDirectory"/> and starts the pipeline.</summary>
    public static CreditEngine Start(EngineOptions options, TimeProvider? clock = null, ILogger? logger = null) =>
        new(options, clock ?? TimeProvider.System, logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    public RecoveryReport Recovery { get; }
    public EngineOptions Options => _options;
    /// <summary>
    /// The journal, for readers that follow the durable event stream (subscribers, read models). With
    /// <see cref="EngineOptions.TruncateJournal"/> its <see cref="EventJournal.BeginAddress"/> moves forward after
    /// snapshots; a reader behind it gets <see cref="JournalTruncatedException"/> and must restart from a snapshot.
    /// </summary>
    public EventJournal Journal => _journal;
    /// <summary>
    /// The snapshot store, for serving snapshots to replicas (<see cref="TryOpenNewestSnapshot"/> is the usual entry).
    /// Only the engine writes to it; reading is safe at any time, concurrently with snapshot writes and pruning.
    /// </summary>
    public SnapshotStore Snapshots => _snapshots;
    /// <summary>Journal truncations done by retention since start (0 unless <see cref="EngineOptions.TruncateJournal"/>).</summary>
    public long JournalTruncations => _retention?.Truncations ?? 0;
    /// <summary>
    /// The named durable consumers of the event stream (persisted in the data directory). A live cursor holds journal
    /// retention back; retention drops one that lags past <see cref="RetentionOptions.CursorLagMaxMs"/>,
    /// <see cref="RetentionOptions.CursorLagBytesMax"/> or the disk budget. Any thread.
    /// </summary>
    public ConsumerCursors Cursors => _cursors;
    /// <summary>What the last retention pass found: what holds the begin, the budget, cursor lags, warnings.</summary>
    public RetentionStatus RetentionStatus => _retention?.Status ?? new RetentionStatus { BeginAddress = _journal.BeginAddress };
    /// <summary>Asks retention for a pass soon (e.g. after a cursor was acknowledged or deleted); no-op without retention.</summary>
    public void RequestRetentionPass() => _retention?.RequestPass();
    /// <summary>Runs one retention pass on the calling thread (tests: deterministic instead of waiting for the worker).</summary>
    internal void RunRetentionPass() => _retention?.RunPass();
    /// <summary>Set when a pipeline stage failed; the engine then refuses everything.</summary>
    public Exception? Fault => _fault;
    /// <summary>Completes with the first pipeline failure (never otherwise): the engine has fail-stopped and the process should exit.</summary>
    public Task<Exception> Faulted => _faulted.Task;
    public bool IsAccepting => _accepting;
    /// <summary>Commands fully processed (replied) since start, as ring sequence + 1.</summary>
    public long CompletedCommands => _commit.Sequence.Value + 1;
    public long JournalCommits => _journalHandler.Commits;
    /// <summary>How far back request ids are answerable (published by the decide thread about once a second); any thread.</summary>
    public IdempotencyWindowStatus IdempotencyWindow => _decideHandler.Window;

    /// <summary>The engine's instruments (meter <c>Credit.Engine</c>).</summary>
    public EngineMetrics Metrics => _metrics;

    /// <summary>
    /// Opens the newest snapshot whose checksums verify, for sending to a replica: <paramref name="info"/> has its
    /// sequence, journal address (follow the journal from there), body length and body CRC-32C; <paramref name="body"/>
    /// streams the body and stays readable even if the engine prunes the file meanwhile (the caller disposes it).
    /// Reads the whole body once to verify it before returning. Any thread, any time.
    /// </summary>
    /// <returns>False when there is no valid snapshot yet.</returns>
    public bool TryOpenNewestSnapshot(out SnapshotInfo info, out Stream body) => _snapshots.TryOpenNewestValid(out info, out body);
    /// <summary>The ledger, for tests that compare state once the engine is stopped. Owned by the decide thread while running.</summary>
    internal Ledger LedgerWhenStopped => _stopState != 0 ? _ledger : throw new InvalidOperationException("the ledger belongs to the decide thread until the engine is stopped");

    /// <summary>
    /// Submits one command and completes with its reply once the outcome is durable. Throws
    /// <see cref="InvalidCommandException"/> (naming the field) for malformed input, which changes nothing.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Reply> SubmitAsync(Command command, bool waitForCapacity = false)
    {
        if (CommandValidator.Validate(command) is { } error) throw new InvalidCommandException(error);
        ReplyBatch batch = ReplyBatch.Rent(1);
        Publish(new ReadOnlySpan<Command>(in command), batch, waitForCapacity);
        await batch.Task.ConfigureAwait(false);
        Reply reply = batch.Replies[0];
        batch.Return();
        return reply;
    }

    /// <summary>
    /// Submits many commands at once (the high-throughput path) and fills <paramref name="replies"/> in
    /// the same order. All commands are validated first; one malformed command refuses the whole batch.
    /// Without <paramref name="waitForCapacity"/>, commands that do not fit in the ring are answered
    /// <see cref="Status.EngineUnavailable"/> at once; with it, the caller waits for room (bounded by the pipeline's pace).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SubmitBatchAsync(ReadOnlyMemory<Command> commands, Memory<Reply> replies, bool waitForCapacity = false)
    {
        if (replies.Length < commands.Length) throw new ArgumentException("replies must be at least as long as commands", nameof(replies));
        if (commands.Length == 0) return;
        ValidateAll(commands.Span);
        ReplyBatch batch = ReplyBatch.Rent(commands.Length);
        Publish(commands.Span, batch, waitForCapacity);
        await batch.Task.ConfigureAwait(false);
        batch.Replies.CopyTo(replies.Span);
        batch.Return();
    }

    private static void ValidateAll(ReadOnlySpan<Command> commands)
    {
        for (int i = 0; i < commands.Length; i++)
        {
            if (CommandValidator.Validate(commands[i]) is { } error)
                throw new InvalidCommandException(error with { Field = $"commands[{i}].{error.Field}" });
        }
    }

    private void Publish(ReadOnlySpan<Command> commands, ReplyBatch batch, bool waitForCapacity)
    {
        // Hash before claiming: the decide thread waits for every claimed slot to be published, so a producer holding
        // a claim must only copy (on a loaded machine a producer preempted mid-claim stalls the whole pipeline).
        CommandKeys[] keys = System.Buffers.ArrayPool<CommandKeys>.Shared.Rent(commands.Length);
        for (int i = 0; i < commands.Length; i++) keys[i] = Fingerprints.KeysOf(commands[i]);
        Interlocked.Increment(ref _activeSubmitters);
        int published = 0;
        try
        {
            // A quarter of the ring per claim keeps one huge batch from starving other producers.
            int chunkMax = _ring.BufferSize / 4;
            while (published < commands.Length && _accepting)
            {
                int count = Math.Min(chunkMax, commands.Length - published);
                if (!TryClaim(count, waitForCapacity, out long high)) break;
                long low = high - count + 1;
                for (int i = 0; i < count; i++)
                {
                    ref CommandSlot slot = ref _ring[low + i];
                    slot.Command = commands[published + i];
                    // Computed on the submitting thread above: the decide thread hashes no id.
                    keys[published + i].StampOnto(ref slot.Command);
                    slot.Waiter = batch;
                    slot.WaiterIndex = published + i;
                }
                _ring.Publish(low, high);
                published += count;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _activeSubmitters);
            System.Buffers.ArrayPool<CommandKeys>.Shared.Return(keys);
        }
        if (published < commands.Length)
        {
            _metrics.CountRefused(commands.Length - published);
            batch.CompleteUnpublished(published, Unavailable);
        }
    }

    private bool TryClaim(int count, bool waitForCapacity, out long high)
    {
        if (_ring.TryNext(count, out high)) return true;
        if (!waitForCapacity) return false;
        var spin = new SpinWait();
        while (_accepting)
        {
            spin.SpinOnce(sleep1Threshold: -1);
            if (_ring.TryNext(count, out high)) return true;
        }
        return false;
    }

    private void PublishTick()
    {
        if (!_accepting) return;
        Interlocked.Increment(ref _activeSubmitters);
        try
        {
            // A full ring skips this tick: the next one comes within TickIntervalMs, and a busy engine is not idle.
            if (!_accepting || !_ring.TryNext(out long sequence)) return;
            ref CommandSlot slot = ref _ring[sequence];
            slot.Command = Command.Tick();
            slot.Waiter = null;
            _ring.Publish(sequence);
        }
        finally
        {
            Interlocked.Decrement(ref _activeSubmitters);
        }
    }

    /// <summary>
    /// Graceful shutdown: refuse new commands, let every published one finish (decided, committed, replied),
    /// stop the stages, take a final snapshot and close the journal.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopState, 1) != 0) return;
        _accepting = false;
        await _ticker.DisposeAsync().ConfigureAwait(false);
        SpinWait.SpinUntil(() => Volatile.Read(ref _activeSubmitters) == 0);
        long last = _ring.Cursor;
        while (_commit.Sequence.Value < last && _fault is null)
        {
            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
        _decide.Halt();
        _commit.Halt();
        var joinTimeout = TimeSpan.FromSeconds(30);
        _decide.Join(joinTimeout);
        _commit.Join(joinTimeout);
        if (_fault is null && _options.SnapshotOnShutdown)
        {
            // Not needed for correctness (the journal holds every event): a failure only makes the next start replay more.
            if (!_decideHandler.TryTakeSnapshot("shutdown")) _logger.LogWarning("the shutdown snapshot failed; the next start replays the journal from the previous snapshot");
        }
        // Serves the truncation the shutdown snapshot requested, then stops: the journal must outlive it.
        _retention?.Dispose();
        _journal.Dispose();
        _idempotencySpill?.Dispose();
        // Last: the next engine on this directory may open the journal once this one has closed it.
        _directoryLock.Dispose();
        _metrics.Dispose();
        _logger.LogInformation("engine stopped at sequence {Sequence}", _ledger.LastSequence);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>How long the fault drain waits for submitters and stage threads before releasing waiters anyway.</summary>
    internal static readonly TimeSpan FaultDrainWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A stage threw: a bug or an I/O failure (EIO, ENOSPC on commit). Fail-stop — refuse everything, make sure the
    /// journal commits nothing more (what the decide stage appended after the last commit may be half a decision), and
    /// release waiters with <see cref="Status.EngineUnavailable"/>. Nothing is answered as a success unless its commit
    /// returned: the journal stage answers a batch only after its commit returned. A
    /// released command may or may not be durable (its commit may have completed just before the fault); a retry with
    /// the same request id after restart gets the recorded answer. <see cref="Faulted"/> then tells the host to exit.
    /// </summary>
    private void OnFault(Exception exception)
    {
        _fault ??= exception;
        _accepting = false;
        _journal.Abandon(exception);
        // Later stages fault too once the journal is abandoned; only the first failure drains and is reported.
        if (Interlocked.Exchange(ref _faultDrainStarted, 1) != 0)
        {
            _logger.LogError("engine pipeline: a further stage stopped after the fault: {Error}", exception.Message);
            return;
        }
        _logger.LogCritical("engine pipeline stopped: {Exception}", exception);
        ThreadPool.QueueUserWorkItem(_ =>
        {
            if (!SpinWait.SpinUntil(() => Volatile.Read(ref _activeSubmitters) == 0, FaultDrainWait))
                _logger.LogWarning("engine fault drain: submitters still publishing after the wait; their commands are released as they finish");
            _decide.Halt();
            _commit.Halt();
            bool stopped = _decide.Join(FaultDrainWait) & _commit.Join(FaultDrainWait);
            if (!stopped) _logger.LogWarning("engine fault drain: a pipeline stage has not stopped (blocked in I/O?); releasing waiters anyway");
            // Safe even while a stage is still running: the journal stage and this drain take each waiter atomically,
            // so every waiter is completed once, and nothing after the last successful commit is ever answered as done.
            ReleaseUnanswered(_ring, _commit.Sequence.Value + 1, _ring.Cursor, Unavailable);
            _faulted.TrySetResult(_fault ?? exception);
        });
    }

    /// <summary>
    /// Completes the waiters of slots [<paramref name="from"/>, <paramref name="to"/>] with <paramref name="reply"/>,
    /// taking each waiter atomically so a still-running journal stage never completes the same one again.
    /// </summary>
    internal static void ReleaseUnanswered(RingBuffer<CommandSlot> ring, long from, long to, Reply reply)
    {
        for (long sequence = from; sequence <= to; sequence++)
        {
            ref CommandSlot slot = ref ring[sequence];
            ReplyBatch? waiter = Interlocked.Exchange(ref slot.Waiter, null);
            if (waiter is not null && waiter.Fill(slot.WaiterIndex, reply))
                ThreadPool.UnsafeQueueUserWorkItem(static b => b.Release(), waiter, preferLocal: false);
        }
    }

    private static IWaitStrategy CreateWaitStrategy(string name) => name.ToLowerInvariant() switch
    {
        "hybrid" => new HybridWaitStrategy(),
        "blocking" => new BlockingWaitStrategy(),
        "yielding" => new YieldingWaitStrategy(),
        "busyspin" => new BusySpinWaitStrategy(),
        _ => throw new ArgumentException($"Engine:WaitStrategy '{name}' is not one of Hybrid, Blocking, Yielding, BusySpin"),
    };
}
