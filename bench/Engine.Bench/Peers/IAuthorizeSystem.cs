namespace Engine.Bench.Peers;

/// <summary>
/// One system under test. Its life: <see cref="StartAsync"/> (start servers, open the accounts, verify the durability
/// settings) → many concurrent <see cref="AuthorizeAsync"/> → <see cref="ReadTotalHeldAsync"/> (read state back from
/// the system itself) → <see cref="IAsyncDisposable.DisposeAsync"/> (stop every server it started, delete its files).
/// </summary>
internal interface IAuthorizeSystem : IAsyncDisposable
{
    /// <summary>The row name in the table and the JSON, e.g. <c>postgresql</c>.</summary>
    string Name { get; }

    /// <summary>What the system does for one authorization, in a sentence (printed and stored with the row).</summary>
    string PerAuthorization { get; }

    /// <summary>True once <see cref="StartAsync"/> has verified that every reply waits for stable storage.</summary>
    bool Durable { get; }

    /// <summary>The durability-relevant settings as read back from the running system (e.g. <c>synchronous_commit = on</c>).</summary>
    IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>Processes doing the server's work outside this one (with their direct children), for the CPU-per-authorization figure; empty in-process.</summary>
    IReadOnlyCollection<int> ServerProcessIds { get; }

    Task StartAsync(AuthorizeWorkload workload, PeersOptions options, CancellationToken ct);

    /// <summary>
    /// Authorizes <paramref name="amountMinor"/> on account <paramref name="accountIndex"/>; true = approved (a hold was
    /// placed), false = declined for insufficient credit. Anything else throws: it is counted as an error.
    /// </summary>
    ValueTask<bool> AuthorizeAsync(long requestIndex, int accountIndex, long amountMinor, CancellationToken ct);

    /// <summary>The sum of <c>held</c> over all accounts, read back from the system after the run.</summary>
    Task<long> ReadTotalHeldAsync(CancellationToken ct);
}
