using Engine.LoadTest;

namespace Engine.LoadTest.Tests;

/// <summary>Bad usage exits 2 with a message naming the flag, before anything is sent; only loopback targets are accepted.</summary>
public sealed class UsageTests
{
    [Fact]
    public async Task An_unknown_flag_exits_2_and_names_the_flag()
    {
        (int exit, string error) = await RunAsync("--rate", "10", "--bogus-flag", "1");
        Assert.Equal(LoadTestApp.ExitUsage, exit);
        Assert.Contains("--bogus-flag", error);
    }

    [Fact]
    public async Task Rate_and_concurrency_together_exit_2_because_open_and_closed_loop_exclude_each_other()
    {
        (int exit, string error) = await RunAsync("--rate", "10", "--concurrency", "4");
        Assert.Equal(LoadTestApp.ExitUsage, exit);
        Assert.Contains("--rate", error);
        Assert.Contains("--concurrency", error);
    }

    [Theory]
    [InlineData("http://10.0.0.1:5000")]
    [InlineData("http://192.168.1.20:5000")]
    [InlineData("http://172.16.0.5:5000")]
    [InlineData("http://8.8.8.8:5000")]
    [InlineData("http://example.com:5000")]
    [InlineData("http://0.0.0.0:5000")]
    public async Task A_target_that_is_not_loopback_is_refused_with_exit_2(string target)
    {
        (int exit, string error) = await RunAsync("--target", target, "--rate", "10");
        Assert.Equal(LoadTestApp.ExitUsage, exit);
        Assert.Contains("--target", error);
        Assert.Contains("loopback", error);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000")]
    [InlineData("http://127.0.0.2:6000")]
    [InlineData("http://localhost:5000")]
    [InlineData("http://[::1]:5000")]
    public void Loopback_targets_are_accepted(string target)
    {
        LoadTestOptions options = OptionsParser.Parse(["--target", target]);
        Assert.Equal(new Uri(target), options.Target);
    }

    [Theory]
    [InlineData("--rate", "fast")]
    [InlineData("--rate", "0")]
    [InlineData("--seconds", "0")]
    [InlineData("--seconds", "100000")]
    [InlineData("--execute-batch", "20000")]
    [InlineData("--max-in-flight", "0")]
    [InlineData("--zipf", "-1")]
    [InlineData("--mix", "authorize=x")]
    [InlineData("--mix", "transfer=5")]
    [InlineData("--mix", "authorize=0")]
    [InlineData("--max-error-rate", "2")]
    [InlineData("--account-prefix", "has space")]
    [InlineData("--json", null)]
    public async Task A_malformed_or_out_of_range_value_exits_2_naming_the_flag(string flag, string? value)
    {
        (int exit, string error) = await RunAsync(value is null ? [flag] : [flag, value]);
        Assert.Equal(LoadTestApp.ExitUsage, exit);
        Assert.Contains(flag, error);
    }

    [Fact]
    public async Task Concurrency_times_batch_above_max_in_flight_exits_2()
    {
        (int exit, string error) = await RunAsync("--concurrency", "30", "--execute-batch", "1000", "--max-in-flight", "20000");
        Assert.Equal(LoadTestApp.ExitUsage, exit);
        Assert.Contains("--concurrency", error);
    }

    [Fact]
    public void Defaults_are_a_bounded_open_loop_unary_run_against_the_default_address()
    {
        LoadTestOptions options = OptionsParser.Parse([]);
        Assert.Equal(LoadMode.OpenLoop, options.Mode);
        Assert.Equal(new Uri("http://127.0.0.1:5000"), options.Target);
        Assert.Equal((30, 5, 2_000, 50_000_000L), (options.Seconds, options.WarmupSeconds, options.MaxInFlight, options.MaxRequests));
        Assert.Equal(0, options.ExecuteBatchSize);
        Assert.Equal("authorize=70,capture=15,void=10,repay=5", options.Mix.ToString());
    }

    [Fact]
    public void Execute_batch_runs_bound_in_flight_commands_at_20_000_by_default_and_unary_runs_at_2_000()
    {
        Assert.Equal(20_000, OptionsParser.Parse(["--execute-batch", "1000"]).MaxInFlight);
        Assert.Equal(LoadTestOptions.UnaryMaxInFlightDefault, OptionsParser.Parse(["--rate", "20000"]).MaxInFlight);
        Assert.Equal(500, OptionsParser.Parse(["--execute-batch", "100", "--max-in-flight", "500"]).MaxInFlight);
    }

    [Fact]
    public void Flags_accept_name_equals_value_and_underscored_numbers()
    {
        LoadTestOptions options = OptionsParser.Parse(["--rate=20_000", "--execute-batch", "1000", "--zipf=1.1", "--mix", "authorize=1,repay=1"]);
        Assert.Equal((20_000.0, 1000, 1.1), (options.RatePerSecond, options.ExecuteBatchSize, options.ZipfExponent));
        Assert.Equal(2, options.Mix.Total);
    }

    private static async Task<(int Exit, string Error)> RunAsync(params string[] args)
    {
        var error = new StringWriter();
        int exit = await LoadTestApp.RunAsync(args, TextWriter.Null, error);
        return (exit, error.ToString());
    }
}
