using Npgsql;
using NpgsqlTypes;

namespace Engine.Bench.Peers;

/// <summary>
/// PostgreSQL as an authorization store, the way a team would build it first: one row per account and one
/// conditional UPDATE per authorization in autocommit, so each authorization is its own durable transaction
/// (<c>synchronous_commit = on</c>: the commit returns once its WAL is fsync'd; concurrent commits share a WAL flush).
/// 1 row updated = approved, 0 = declined. The client is Npgsql with a connection pool of <see cref="PeersOptions.PostgresPoolSize"/>.
/// <para>Why a pool of about 32 and not one connection per client: each connection is a backend process, and on a
/// 2-core machine hundreds of them only add context switches and lock contention; 32 keep both cores busy and give
/// the WAL writer plenty of concurrent commits to flush together. The other clients wait for a connection, and that
/// wait is part of their latency, as it would be in an application.</para>
/// </summary>
internal sealed class PostgresSystem : IAuthorizeSystem
{
    private const string AuthorizeSql = "UPDATE accounts SET held = held + $1 WHERE id = $2 AND credit_limit - held - posted >= $1";

    /// <summary>Durable and otherwise sensible server settings (appended to postgresql.conf).</summary>
    private static readonly Dictionary<string, string> ServerSettings = new()
    {
        ["fsync"] = "on",
        ["synchronous_commit"] = "on",
        ["full_page_writes"] = "on",
        ["shared_buffers"] = "'256MB'",
        // No checkpoint during a 20 s run: checkpoints would be noise, and they do not change what a commit waits for.
        ["max_wal_size"] = "'8GB'",
        ["checkpoint_timeout"] = "'30min'",
        ["max_connections"] = "200",
    };

    private static readonly string[] VerifiedSettings = ["fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "wal_level", "server_version"];

    private readonly Dictionary<string, string> _settings = new(StringComparer.Ordinal);
    private PostgresServer? _server;
    private NpgsqlDataSource? _dataSource;
    private IReadOnlyList<string> _accountIds = [];

    public string Name => PeersOptions.PostgreSql;
    public string PerAuthorization => "one autocommit transaction: UPDATE accounts SET held = held + $1 WHERE id = $2 AND credit_limit - held - posted >= $1 (1 row = approved), WAL fsync'd before the reply";
    public bool Durable { get; private set; }
    public IReadOnlyDictionary<string, string> Settings => _settings;
    public IReadOnlyCollection<int> ServerProcessIds => _server?.PostmasterProcessId() is int pid ? [pid] : [];

    public async Task StartAsync(AuthorizeWorkload workload, PeersOptions options, CancellationToken ct)
    {
        await PeerPackages.EnsureInstalledAsync(PeerPackages.PostgresPackage, () => PeerPackages.FindPostgresBinDirectory() is not null, options.InstallMissing, ct).ConfigureAwait(false);
        string binDirectory = PeerPackages.FindPostgresBinDirectory()!;
        var settings = new Dictionary<string, string>(ServerSettings) { ["max_connections"] = Math.Max(100, options.PostgresPoolSize + 20).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        _server = await PostgresServer.StartAsync(binDirectory, settings, ct).ConfigureAwait(false);
        _dataSource = NpgsqlDataSource.Create(_server.ConnectionString(options.PostgresPoolSize));
        _accountIds = workload.AccountIds;

        await using (NpgsqlCommand create = _dataSource.CreateCommand(
            // fillfactor 50 leaves room on each page, so updating held is a HOT update (no index write): PostgreSQL's best case.
            "CREATE TABLE accounts (id text PRIMARY KEY, credit_limit bigint NOT NULL, held bigint NOT NULL, posted bigint NOT NULL) WITH (fillfactor = 50)"))
        {
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await using (NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false))
        {
            await using NpgsqlBinaryImporter copy = await connection.BeginBinaryImportAsync("COPY accounts (id, credit_limit, held, posted) FROM STDIN (FORMAT BINARY)", ct).ConfigureAwait(false);
            foreach (string accountId in workload.AccountIds)
            {
                await copy.StartRowAsync(ct).ConfigureAwait(false);
                await copy.WriteAsync(accountId, NpgsqlDbType.Text, ct).ConfigureAwait(false);
                await copy.WriteAsync(options.CreditLimitMinor, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                await copy.WriteAsync(0L, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                await copy.WriteAsync(0L, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
            }
            await copy.CompleteAsync(ct).ConfigureAwait(false);
        }
        await using (NpgsqlCommand analyze = _dataSource.CreateCommand("VACUUM ANALYZE accounts"))
        {
            await analyze.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        foreach (string setting in VerifiedSettings)
        {
            await using NpgsqlCommand show = _dataSource.CreateCommand($"SHOW {setting}");
            _settings[setting] = (string)(await show.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }
        _settings["pool_size"] = options.PostgresPoolSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _settings["transport"] = "TCP 127.0.0.1";
        Durable = _settings["fsync"] == "on" && _settings["synchronous_commit"] == "on";
        Console.WriteLine($"postgresql {_settings["server_version"]} on 127.0.0.1:{_server.Port}: fsync={_settings["fsync"]} synchronous_commit={_settings["synchronous_commit"]} wal_sync_method={_settings["wal_sync_method"]} pool={options.PostgresPoolSize}");
    }

    public async ValueTask<bool> AuthorizeAsync(long requestIndex, int accountIndex, long amountMinor, CancellationToken ct)
    {
        await using NpgsqlCommand command = _dataSource!.CreateCommand(AuthorizeSql);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = amountMinor });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _accountIds[accountIndex] });
        int rows = await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return rows switch
        {
            1 => true,
            0 => false,
            _ => throw new InvalidOperationException($"UPDATE touched {rows} rows for one account id"),
        };
    }

    public async Task<long> ReadTotalHeldAsync(CancellationToken ct)
    {
        await using NpgsqlCommand sum = _dataSource!.CreateCommand("SELECT COALESCE(SUM(held), 0)::bigint FROM accounts");
        return (long)(await sum.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataSource is not null) await _dataSource.DisposeAsync().ConfigureAwait(false);
        _dataSource = null;
        if (_server is not null) await _server.DisposeAsync().ConfigureAwait(false);
        _server = null;
    }
}
