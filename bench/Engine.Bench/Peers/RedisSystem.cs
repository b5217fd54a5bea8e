using System.Globalization;
using StackExchange.Redis;

namespace Engine.Bench.Peers;

/// <summary>
/// Redis as an authorization store: one hash per account (<c>credit_limit</c>, <c>held</c>, <c>posted</c>) and one Lua
/// script per authorization (EVALSHA), which checks the available credit and increments <c>held</c> atomically.
/// With <c>appendonly yes</c> and <c>appendfsync always</c>, Redis writes and fsyncs the append-only file before it
/// sends the replies of an event-loop iteration, so concurrent commands share an fsync (group commit).
/// The client is one multiplexed StackExchange.Redis <see cref="ConnectionMultiplexer"/> (its standard use: one connection, pipelined).
/// </summary>
internal sealed class RedisSystem : IAuthorizeSystem
{
    // Returns 1 = approved (held incremented), 0 = declined, -1 = no such account. Amounts stay far below 2^53,
    // where Lua's doubles are exact.
    private const string AuthorizeScript = """
        local account = redis.call('HMGET', KEYS[1], 'credit_limit', 'held', 'posted')
        if not account[1] then return -1 end
        local amount = tonumber(ARGV[1])
        if tonumber(account[1]) - tonumber(account[2]) - tonumber(account[3]) >= amount then
          redis.call('HINCRBY', KEYS[1], 'held', amount)
          return 1
        end
        return 0
        """;

    /// <summary>Commands per pipelined chunk while loading accounts and reading them back.</summary>
    private const int ChunkSize = 1_000;

    private readonly Dictionary<string, string> _settings = new(StringComparer.Ordinal);
    private RedisServer? _server;
    private ConnectionMultiplexer? _connection;
    private IDatabase? _database;
    private byte[] _scriptSha1 = [];
    private RedisKey[] _keys = [];

    public string Name => PeersOptions.Redis;
    public string PerAuthorization => "EVALSHA of a Lua script: HMGET credit_limit/held/posted, compare, HINCRBY held; appended to the AOF and fsync'd before the reply (appendfsync always)";
    public bool Durable { get; private set; }
    public IReadOnlyDictionary<string, string> Settings => _settings;
    public IReadOnlyCollection<int> ServerProcessIds => _server is null ? [] : [_server.ProcessId];

    public async Task StartAsync(AuthorizeWorkload workload, PeersOptions options, CancellationToken ct)
    {
        await PeerPackages.EnsureInstalledAsync(PeerPackages.RedisPackage, () => PeerPackages.FindRedisServer() is not null, options.InstallMissing, ct).ConfigureAwait(false);
        _server = RedisServer.Start(PeerPackages.FindRedisServer()!);
        _connection = await ConnectAsync(_server, ct).ConfigureAwait(false);
        _database = _connection.GetDatabase();
        IServer server = _connection.GetServer("127.0.0.1", _server.Port);

        foreach (string name in new[] { "appendonly", "appendfsync", "save" })
        {
            KeyValuePair<string, string>[] values = await server.ConfigGetAsync(name).ConfigureAwait(false);
            _settings[name] = values.Length == 1 ? values[0].Value : "(not found)";
        }
        _settings["redis_version"] = server.Version.ToString();
        _settings["client"] = "one ConnectionMultiplexer";
        _settings["transport"] = "TCP 127.0.0.1";
        Durable = _settings["appendonly"] == "yes" && _settings["appendfsync"] == "always";

        _keys = workload.AccountIds.Select(id => new RedisKey(id)).ToArray();
        string limit = options.CreditLimitMinor.ToString(CultureInfo.InvariantCulture);
        var fields = new HashEntry[] { new("credit_limit", limit), new("held", 0), new("posted", 0) };
        for (int start = 0; start < _keys.Length; start += ChunkSize)
        {
            ct.ThrowIfCancellationRequested();
            int end = Math.Min(_keys.Length, start + ChunkSize);
            var writes = new Task[end - start];
            for (int n = start; n < end; n++) writes[n - start] = _database.HashSetAsync(_keys[n], fields);
            await Task.WhenAll(writes).ConfigureAwait(false);
        }
        _scriptSha1 = await server.ScriptLoadAsync(AuthorizeScript).ConfigureAwait(false);
        Console.WriteLine($"redis {_settings["redis_version"]} on 127.0.0.1:{_server.Port}: appendonly={_settings["appendonly"]} appendfsync={_settings["appendfsync"]} save='{_settings["save"]}'");
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(RedisServer server, CancellationToken ct)
    {
        var configuration = new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", server.Port } },
            AllowAdmin = true, // CONFIG GET and SHUTDOWN
            AbortOnConnectFail = true,
            ConnectTimeout = 5_000,
            SyncTimeout = 60_000,
            AsyncTimeout = 60_000,
        };
        // The server needs a moment to load and bind; bounded retries.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
            }
            catch (RedisConnectionException) when (attempt < 40 && !server.HasExited)
            {
                await Task.Delay(250, ct).ConfigureAwait(false);
            }
            catch (RedisConnectionException e)
            {
                throw new InvalidOperationException($"could not connect to redis-server on 127.0.0.1:{server.Port}:\n{server.OutputTail()}", e);
            }
        }
    }

    public async ValueTask<bool> AuthorizeAsync(long requestIndex, int accountIndex, long amountMinor, CancellationToken ct)
    {
        RedisResult result = await _database!.ScriptEvaluateAsync(_scriptSha1, [_keys[accountIndex]], [amountMinor]).ConfigureAwait(false);
        return (long)result switch
        {
            1 => true,
            0 => false,
            long other => throw new InvalidOperationException($"authorize script returned {other} for {_keys[accountIndex]}"),
        };
    }

    public async Task<long> ReadTotalHeldAsync(CancellationToken ct)
    {
        long total = 0;
        for (int start = 0; start < _keys.Length; start += ChunkSize)
        {
            ct.ThrowIfCancellationRequested();
            int end = Math.Min(_keys.Length, start + ChunkSize);
            var reads = new Task<RedisValue>[end - start];
            for (int n = start; n < end; n++) reads[n - start] = _database!.HashGetAsync(_keys[n], "held");
            foreach (RedisValue held in await Task.WhenAll(reads).ConfigureAwait(false)) total += (long)held;
        }
        return total;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null && _server is not null && !_server.HasExited)
        {
            try
            {
                // NOSAVE: there is nothing to keep; the AOF was the durable record during the run.
                _connection.GetServer("127.0.0.1", _server.Port).Shutdown(ShutdownMode.Never);
            }
            catch (RedisException)
            {
                // The connection drops as the server exits; that is the expected answer to SHUTDOWN.
            }
            _server.ShutdownRequested = true;
        }
        if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
        _connection = null;
        if (_server is not null) await _server.DisposeAsync().ConfigureAwait(false);
        _server = null;
    }
}
