using System.Globalization;
using Credit.V1;

namespace Engine.LoadTest;

/// <summary>
/// Generates the run's commands from the mix, the account distribution and the amount range, all from one seeded
/// <see cref="Random"/>. Request ids are <c>{runId}-{n}</c>, new for every run, so nothing is answered as a replay.
/// Capture and void take authorizations from the pool that <see cref="Learn"/> fills with approved authorizations;
/// with none open they become authorizations. Thread-safe: one lock around generation and learning.
/// </summary>
public sealed class Workload
{
    public const string Currency = "USD";
    public const int OpenAuthorizationPoolCapacity = 65_536;

    private readonly object _gate = new();
    private readonly LoadTestOptions _options;
    private readonly string _requestIdPrefix;
    private readonly Random _random;
    private readonly ZipfSampler _accounts;
    private readonly OpenAuthorizationPool _openAuthorizations = new(OpenAuthorizationPoolCapacity);
    private readonly long[] _generated = new long[Enum.GetValues<CommandKind>().Length];
    private long _nextRequest;

    public Workload(LoadTestOptions options, string runId)
    {
        _options = options;
        _requestIdPrefix = runId + "-";
        _random = new Random(options.Seed);
        _accounts = new ZipfSampler(options.Accounts, options.ZipfExponent);
    }

    /// <summary>A run id that differs between runs (time-based), so request ids never collide with an earlier run's.</summary>
    public static string NewRunId() => "lt" + DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString("x", CultureInfo.InvariantCulture);

    public static string AccountId(string prefix, int index) => prefix + index.ToString("D7", CultureInfo.InvariantCulture);

    /// <summary>Commands generated so far by kind (after fallbacks: a capture with nothing open counts as an authorize).</summary>
    public IReadOnlyDictionary<string, long> GeneratedByKind
    {
        get
        {
            lock (_gate)
            {
                return WorkloadMix.Names.Where(n => _generated[(int)n.Value] > 0).ToDictionary(n => n.Key, n => _generated[(int)n.Value]);
            }
        }
    }

    public int OpenAuthorizations
    {
        get { lock (_gate) return _openAuthorizations.Count; }
    }

    /// <summary>Fills <paramref name="commands"/> with the next commands of the mix.</summary>
    public void Fill(Span<Command> commands)
    {
        lock (_gate)
        {
            for (int i = 0; i < commands.Length; i++) commands[i] = NextLocked();
        }
    }

    /// <summary>Adds the approved authorizations among <paramref name="commands"/> to the pool of open ones.</summary>
    public void Learn(IReadOnlyList<Command> commands, IReadOnlyList<CommandReply> replies)
    {
        lock (_gate)
        {
            for (int i = 0; i < commands.Count && i < replies.Count; i++)
            {
                if (commands[i].CommandCase != Command.CommandOneofCase.Authorize || replies[i].Status != Credit.V1.Status.Ok) continue;
                _openAuthorizations.Add(commands[i].Authorize.RequestId, commands[i].Authorize.Amount, _random);
            }
        }
    }

    private Command NextLocked()
    {
        string requestId = _requestIdPrefix + (_nextRequest++).ToString(CultureInfo.InvariantCulture);
        CommandKind kind = _options.Mix.KindOf(_random.Next(_options.Mix.Total));
        string authorizationId;
        long authorizedMinor;
        switch (kind)
        {
            case CommandKind.Capture when _openAuthorizations.TryTake(_random, out authorizationId, out authorizedMinor):
                _generated[(int)kind]++;
                return new Command { Capture = new CaptureRequest { RequestId = requestId, AuthorizationId = authorizationId, Amount = _random.NextInt64(1, authorizedMinor + 1), Final = true } };
            case CommandKind.Void when _openAuthorizations.TryTake(_random, out authorizationId, out _):
                _generated[(int)kind]++;
                return new Command { Void = new VoidRequest { RequestId = requestId, AuthorizationId = authorizationId } };
            case CommandKind.Repay:
                _generated[(int)kind]++;
                return new Command { Repay = new RepayRequest { RequestId = requestId, AccountId = NextAccount(), Amount = NextAmount() } };
            case CommandKind.ForcePost:
                _generated[(int)kind]++;
                return new Command { ForcePost = new ForcePostRequest { RequestId = requestId, AccountId = NextAccount(), Amount = NextAmount(), MerchantId = "lt-merchant", Mcc = 5411 } };
            case CommandKind.Refund:
                _generated[(int)kind]++;
                return new Command { Refund = new RefundRequest { RequestId = requestId, AccountId = NextAccount(), Amount = NextAmount() } };
            default:
                // Authorize, and capture / void with nothing open to act on.
                _generated[(int)CommandKind.Authorize]++;
                return new Command { Authorize = new AuthorizeRequest { RequestId = requestId, AccountId = NextAccount(), Amount = NextAmount(), Currency = Currency, MerchantId = "lt-merchant", Mcc = 5411 } };
        }
    }

    private string NextAccount() => AccountId(_options.AccountPrefix, _accounts.Next(_random));

    private long NextAmount() => _random.NextInt64(_options.AmountMinMinor, _options.AmountMaxMinor + 1);
}
