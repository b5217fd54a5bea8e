using System.Globalization;

namespace Engine.LoadTest;

/// <summary>
/// Parses <c>--name value</c> (or <c>--name=value</c>) arguments into <see cref="LoadTestOptions"/>. Every mistake is a
/// <see cref="UsageException"/> naming the flag: an unknown flag, a missing or malformed value, a value out of its
/// bound, --rate together with --concurrency, a target that is not loopback.
/// </summary>
public static class OptionsParser
{
    public const string Usage = """
        Engine.LoadTest: open- or closed-loop gRPC load against a credit engine on this machine.

          --target URL            engine address, loopback only (default http://127.0.0.1:5000)
          --api-key-file PATH     send the API key in PATH (README "Access control"; the principal needs the authorizer
                                  role, and account-admin unless --no-setup); a file, so the key is not in `ps`
          --rate N                open loop: commands/s at a constant arrival rate (default 1000)
          --concurrency N         closed loop: N requests outstanding (excludes --rate)
          --execute-batch N       send batches of N commands on PipelineService.Execute instead of unary calls
          --streams N             Execute streams to spread batches over (default 1)
          --connections N         HTTP/2 connections to spread calls and streams over (default 4)
          --seconds N             measured seconds (default 30)   --warmup-seconds N  not counted (default 5)
          --max-requests N        most commands sent, warm-up included (default 50,000,000)
          --max-in-flight N       most commands outstanding; open-loop sends beyond it are client errors
                                  (default 2,000 unary calls; 20,000 commands with --execute-batch)
          --timeout-ms N          unary deadline and end-of-run drain bound (default 5000)
          --mix k=w,...           authorize, capture, void, repay, force_post, refund (default authorize=70,capture=15,void=10,repay=5)
          --accounts N            accounts used (default 10,000)   --zipf S  0 = uniform (default), else zipfian hot accounts
          --amount-min N --amount-max N   authorization amounts, minor units (default 100..10,000)
          --credit-limit N        credit limit of the accounts opened (default 1,000,000,000,000)
          --account-prefix P      account id prefix (default lt-acct-)   --no-setup  accounts exist already
          --seed N                workload seed (default 1)
          --json PATH             write PATH, and PATH's .md and .html reports next to it
          --max-p99-ms X          exit 1 when p99 > X ms          --max-error-rate R  exit 1 when errors/requests > R
          --quiet                 no progress line each second

        Exit codes: 0 passed, 1 a threshold broken, 2 bad usage, 3 the run could not happen.
        """;

    private static readonly HashSet<string> Flags = ["--no-setup", "--quiet"];

    private static readonly HashSet<string> ValueOptions =
    [
        "--target", "--rate", "--concurrency", "--execute-batch", "--streams", "--connections", "--seconds", "--warmup-seconds", "--max-requests",
        "--max-in-flight", "--timeout-ms", "--mix", "--accounts", "--zipf", "--amount-min", "--amount-max", "--credit-limit",
        "--account-prefix", "--seed", "--json", "--max-p99-ms", "--max-error-rate", "--api-key-file",
    ];

    public static LoadTestOptions Parse(IReadOnlyList<string> args)
    {
        Dictionary<string, string?> given = Tokenize(args);
        var defaults = new LoadTestOptions();
        bool hasRate = given.ContainsKey("--rate");
        bool hasConcurrency = given.ContainsKey("--concurrency");
        if (hasRate && hasConcurrency)
            throw new UsageException("--concurrency", "--rate (open loop) and --concurrency (closed loop) exclude each other: give one");

        var options = new LoadTestOptions
        {
            Target = ParseTarget(String(given, "--target") ?? LoadTestOptions.DefaultTarget),
            ApiKey = String(given, "--api-key-file") is { } keyFile ? ReadApiKey(keyFile) : null,
            Mode = hasConcurrency ? LoadMode.ClosedLoop : LoadMode.OpenLoop,
            RatePerSecond = Double(given, "--rate", defaults.RatePerSecond, 0.001, LoadTestOptions.Limits.RatePerSecondMax),
            Concurrency = (int)Long(given, "--concurrency", 0, 1, LoadTestOptions.Limits.ConcurrencyMax),
            ExecuteBatchSize = (int)Long(given, "--execute-batch", 0, 1, LoadTestOptions.Limits.ExecuteBatchSizeMax),
            ExecuteStreams = (int)Long(given, "--streams", defaults.ExecuteStreams, 1, LoadTestOptions.Limits.ExecuteStreamsMax),
            Connections = (int)Long(given, "--connections", defaults.Connections, 1, LoadTestOptions.Limits.ConnectionsMax),
            Seconds = (int)Long(given, "--seconds", defaults.Seconds, 1, LoadTestOptions.Limits.SecondsMax),
            WarmupSeconds = (int)Long(given, "--warmup-seconds", defaults.WarmupSeconds, 0, LoadTestOptions.Limits.WarmupSecondsMax),
            MaxRequests = Long(given, "--max-requests", defaults.MaxRequests, 1, LoadTestOptions.Limits.MaxRequestsMax),
            MaxInFlight = (int)Long(given, "--max-in-flight", given.ContainsKey("--execute-batch") ? LoadTestOptions.ExecuteMaxInFlightDefault : LoadTestOptions.UnaryMaxInFlightDefault, 1, LoadTestOptions.Limits.MaxInFlightMax),
            TimeoutMs = (int)Long(given, "--timeout-ms", defaults.TimeoutMs, 1, LoadTestOptions.Limits.TimeoutMsMax),
            Mix = given.TryGetValue("--mix", out string? mix) ? WorkloadMix.Parse(mix!) : defaults.Mix,
            Accounts = (int)Long(given, "--accounts", defaults.Accounts, 1, LoadTestOptions.Limits.AccountsMax),
            ZipfExponent = Double(given, "--zipf", 0, 0, LoadTestOptions.Limits.ZipfExponentMax),
            AmountMinMinor = Long(given, "--amount-min", defaults.AmountMinMinor, 1, long.MaxValue / 4),
            AmountMaxMinor = Long(given, "--amount-max", defaults.AmountMaxMinor, 1, long.MaxValue / 4),
            CreditLimitMinor = Long(given, "--credit-limit", defaults.CreditLimitMinor, 0, long.MaxValue / 4),
            AccountPrefix = ParseAccountPrefix(String(given, "--account-prefix") ?? defaults.AccountPrefix),
            SkipSetup = given.ContainsKey("--no-setup"),
            Seed = (int)Long(given, "--seed", defaults.Seed, int.MinValue, int.MaxValue),
            JsonPath = String(given, "--json"),
            MaxP99Ms = given.ContainsKey("--max-p99-ms") ? Double(given, "--max-p99-ms", 0, 0, double.MaxValue) : null,
            MaxErrorRate = given.ContainsKey("--max-error-rate") ? Double(given, "--max-error-rate", 0, 0, 1) : null,
            Quiet = given.ContainsKey("--quiet"),
        };
        Validate(options);
        return options;
    }

    private static void Validate(LoadTestOptions options)
    {
        if (options.AmountMinMinor > options.AmountMaxMinor)
            throw new UsageException("--amount-min", $"--amount-min {options.AmountMinMinor} is above --amount-max {options.AmountMaxMinor}");
        if (options.CommandsPerSend > options.MaxInFlight)
            throw new UsageException("--max-in-flight", $"--max-in-flight {options.MaxInFlight} is smaller than one batch (--execute-batch {options.ExecuteBatchSize})");
        if (options.Mode == LoadMode.ClosedLoop && (long)options.Concurrency * options.CommandsPerSend > options.MaxInFlight)
            throw new UsageException("--concurrency", $"--concurrency {options.Concurrency} × {options.CommandsPerSend} commands per send exceeds --max-in-flight {options.MaxInFlight}");
        if (options.ExecuteStreams > 1 && options.ExecuteBatchSize == 0)
            throw new UsageException("--streams", "--streams applies to --execute-batch runs only");
    }

    private static string ReadApiKey(string path)
    {
        string key;
        try
        {
            key = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException("--api-key-file", $"--api-key-file '{path}' cannot be read: {e.Message}");
        }
        if (key.Length == 0) throw new UsageException("--api-key-file", $"--api-key-file '{path}' is empty");
        return key;
    }

    private static Uri ParseTarget(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? target) || (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps))
            throw new UsageException("--target", $"--target '{text}' is not an http:// or https:// address");
        if (!LoopbackAddress.IsLoopback(target))
            throw new UsageException("--target", $"--target '{text}' is not a loopback address: this tool only loads an engine on this machine (127.0.0.0/8, [::1] or localhost)");
        return target;
    }

    private static string ParseAccountPrefix(string prefix)
    {
        if (prefix.Length is 0 or > LoadTestOptions.Limits.AccountPrefixLengthMax || prefix.Any(c => c is < '!' or > '~'))
            throw new UsageException("--account-prefix", $"--account-prefix must be 1..{LoadTestOptions.Limits.AccountPrefixLengthMax} printable ASCII characters without spaces");
        return prefix;
    }

    private static Dictionary<string, string?> Tokenize(IReadOnlyList<string> args)
    {
        var given = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string argument = args[i];
            if (!argument.StartsWith("--", StringComparison.Ordinal))
                throw new UsageException(argument, $"unexpected argument '{argument}': options are --name value (see --help)");
            string name = argument;
            string? value = null;
            int equals = argument.IndexOf('=');
            if (equals > 0)
            {
                name = argument[..equals];
                value = argument[(equals + 1)..];
            }
            if (Flags.Contains(name))
            {
                if (value is not null) throw new UsageException(name, $"{name} takes no value");
            }
            else if (ValueOptions.Contains(name))
            {
                if (value is null)
                {
                    if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                        throw new UsageException(name, $"{name} needs a value");
                    value = args[++i];
                }
            }
            else
            {
                throw new UsageException(name, $"unknown flag {name} (see --help)");
            }
            if (!given.TryAdd(name, value)) throw new UsageException(name, $"{name} is given twice");
        }
        return given;
    }

    private static string? String(Dictionary<string, string?> given, string name) => given.GetValueOrDefault(name);

    private static long Long(Dictionary<string, string?> given, string name, long fallback, long min, long max)
    {
        if (!given.TryGetValue(name, out string? text)) return fallback;
        if (!long.TryParse(text!.Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw new UsageException(name, $"{name} '{text}' is not a whole number");
        if (value < min || value > max) throw new UsageException(name, $"{name} {value} is out of range {min}..{max}");
        return value;
    }

    private static double Double(Dictionary<string, string?> given, string name, double fallback, double min, double max)
    {
        if (!given.TryGetValue(name, out string? text)) return fallback;
        if (!double.TryParse(text!.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            throw new UsageException(name, $"{name} '{text}' is not a number");
        if (value < min || value > max) throw new UsageException(name, $"{name} {value} is out of range {min}..{max}");
        return value;
    }
}
