namespace Engine.Domain;

/// <summary>
/// Limits and defaults of the ledger. Every limit is named here and documented in README.md.
/// They shape decisions and retention only: replaying a log applies recorded events, so changing an
/// option never changes a recorded balance.
/// </summary>
public sealed record LedgerOptions
{
    /// <summary>Hold lifetime when Authorize does not say: 7 days.</summary>
    public int DefaultHoldExpirySeconds { get; init; } = 7 * 24 * 3600;
    /// <summary>Open authorizations one account may have at once.</summary>
    public int OpenAuthorizationsPerAccountMax { get; init; } = 10_000;
    /// <summary>Accounts the engine accepts before OpenAccount answers <see cref="Status.EngineCapacityExceeded"/>.</summary>
    public int AccountsMax { get; init; } = 20_000_000;
    /// <summary>Request ids are kept until BOTH this many newer ones exist and they are older than <see cref="IdempotencyMinAgeMs"/> (docs/SPEC.md: 50 million or 24 hours, whichever is more).</summary>
    public long IdempotencyMinEntries { get; init; } = 50_000_000;
    public long IdempotencyMinAgeMs { get; init; } = 24L * 3600 * 1000;
    /// <summary>Hard memory bound on remembered request ids (~100 bytes each); beyond it the oldest are dropped even inside the window.</summary>
    public long IdempotencyMaxEntries { get; init; } = 150_000_000;
    /// <summary>How long a closed, voided or expired authorization stays known (for late captures, linked refunds and clear statuses): 30 days.</summary>
    public long ClosedAuthorizationRetentionMs { get; init; } = 30L * 24 * 3600 * 1000;
    /// <summary>Hard bound on retained closed authorizations; beyond it the oldest are forgotten.</summary>
    public int ClosedAuthorizationsMax { get; init; } = 20_000_000;
    /// <summary>Authorizations (open plus retained closed) held at once; an Authorize beyond it answers <see cref="Status.EngineCapacityExceeded"/>.</summary>
    public int AuthorizationsMax { get; init; } = 200_000_000;
    /// <summary>Capacity hint: accounts expected (0 = grow on demand; growing doubles the index and rehashes every entry at once, see <see cref="KeyTable"/>).</summary>
    public int ExpectedAccounts { get; init; }
    /// <summary>Capacity hint: authorizations known at once (open plus retained closed ones).</summary>
    public int ExpectedAuthorizations { get; init; }
    /// <summary>Capacity hint: request ids remembered at once (≈ 80 bytes each plus 4 per slot of capacity). Production: the retention window, e.g. 50,000,000.</summary>
    public int ExpectedRequestIds { get; init; }
    /// <summary>Holds expired per Tick at most; the rest expire on following ticks.</summary>
    public int ExpirationsPerTickMax { get; init; } = 10_000;
    /// <summary>Engine-wide delinquency thresholds; SetDelinquencyPolicy overrides them per account.</summary>
    public DelinquencyPolicy DelinquencyPolicy { get; init; } = DelinquencyPolicy.Default;
    /// <summary>
    /// Lifecycle events (statements, reminders, stage changes) per Tick at most; the rest follow on later ticks. 1,000 keeps a
    /// tick to a few milliseconds of the decide thread (bench/RESULTS.md "A month of lifecycle ticks"): 10,000 events a
    /// second at the 100 ms tick, so a day on which 1M statements close spreads them over about 100 s.
    /// </summary>
    public int LifecycleEventsPerTickMax { get; init; } = 1_000;
    /// <summary>
    /// Timer entries a Tick looks at, at most (each emits at most one event; stale ones, e.g. of a due paid since, emit
    /// none). Bounds the tick when many entries come up with nothing to do: on the day 1M entries come up, 2,000 pops of
    /// the 1M-entry heap took up to 4–7 ms on the 2-core machine, 1,000 up to 5.6 ms, 500 up to 1.9 ms (bench/RESULTS.md
    /// "A month of lifecycle ticks"); at the 100 ms tick 1M entries then take about 200 s.
    /// </summary>
    public int LifecycleTimersPerTickMax { get; init; } = 500;
}
