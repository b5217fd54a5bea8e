using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Credit.V1;
using Engine.Server.Hosting;
using Engine.Testing;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>
/// Metrics for Prometheus on their own port (Server:MetricsUrl, issue #14 item 6) and structured error logs with the
/// command's request id. The scrape is the Prometheus text format a real Prometheus reads.
/// </summary>
public sealed partial class MetricsTests
{
    [Fact]
    public async Task The_metrics_port_serves_the_named_instruments_and_the_command_counters_move_between_scrapes()
    {
        // Its own process: the meters of other tests' in-process servers must not count here.
        int port = FreePort();
        string dataDirectory = TestServer.NewDataDirectory();
        using ChildServer server = await ChildServer.StartAsync(dataDirectory, $"--Server:MetricsUrl=http://127.0.0.1:{port}/");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
        string account = Id("acct");
        OpenAccountResponse opened = await server.Accounts.OpenAccountAsync(new OpenAccountRequest
        {
            RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 10_000,
        }, Deadline());
        Assert.Equal(Credit.V1.Status.Ok, opened.Status);
        await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 100, Currency = "USD" }, Deadline());
        string first = await ScrapeUntilAsync(http, text => Value(text, "credit_engine_commands_total", ("type", "Authorize"), ("status", "Ok")) >= 1);
        double authorizedBefore = Value(first, "credit_engine_commands_total", ("type", "Authorize"), ("status", "Ok"));

        // Two more approvals and a decline for want of credit.
        for (int i = 0; i < 2; i++)
            await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 100, Currency = "USD" }, Deadline());
        AuthorizeResponse declined = await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 1_000_000, Currency = "USD" }, Deadline());
        Assert.Equal(Credit.V1.Status.InsufficientCredit, declined.Status);
        string second = await ScrapeUntilAsync(http, text =>
            Value(text, "credit_engine_commands_total", ("type", "Authorize"), ("status", "Ok")) >= authorizedBefore + 2
            && Value(text, "credit_engine_commands_total", ("type", "Authorize"), ("status", "InsufficientCredit")) >= 1);

        Assert.Equal(authorizedBefore + 2, Value(second, "credit_engine_commands_total", ("type", "Authorize"), ("status", "Ok")));
        Assert.Equal(1, Value(second, "credit_engine_commands_total", ("type", "OpenAccount"), ("status", "Ok")));
        Assert.True(Value(second, "credit_engine_commit_commands_count") > Value(first, "credit_engine_commit_commands_count"), "commits counted");
        Assert.True(Value(second, "credit_engine_commit_duration_seconds_count") > Value(first, "credit_engine_commit_duration_seconds_count"), "commit latency recorded");
        Assert.True(Value(second, "credit_engine_decide_batch_size_count") > Value(first, "credit_engine_decide_batch_size_count"), "decide batches recorded");
        foreach (string name in new[]
        {
            "credit_engine_commit_duration_seconds_bucket", "credit_engine_ring_occupancy", "credit_engine_ring_size", "credit_engine_replies_refused_total",
            "credit_engine_idempotency_entries", "credit_engine_idempotency_window_seconds", "credit_engine_idempotency_below_configured",
            "credit_read_model_lag_events", "credit_read_model_lag_ms_milliseconds", "credit_subscribers", "dotnet_gc_pause_time_seconds_total",
        })
        {
            Assert.True(Has(second, name), $"{name} is exported");
        }
    }

    [Fact]
    public async Task Without_Server_MetricsUrl_no_metrics_port_is_opened()
    {
        await using TestServer server = await TestServer.StartAsync();
        Assert.Empty(server.Services.GetServices<OpenTelemetry.Metrics.MeterProvider>());
    }

    [Theory]
    [InlineData("https://127.0.0.1:9464/")]
    [InlineData("http://127.0.0.1:9464/metrics")]
    [InlineData("not a url")]
    public void A_bad_Server_MetricsUrl_refuses_to_start_naming_the_setting(string url)
    {
        var e = Assert.Throws<ArgumentException>(() => ServerApp.Build([.. TestServer.Arguments(TestServer.NewDataDirectory(), $"--Server:MetricsUrl={url}")]));
        Assert.Contains("Server:MetricsUrl", e.Message);
    }

    [Fact]
    public async Task A_refused_command_is_logged_with_its_request_id_method_and_status()
    {
        var log = new ListLogger();
        await WithLoggedServerAsync(log, [], async channel =>
        {
            var authorization = new AuthorizationService.AuthorizationServiceClient(channel);
            RpcException e = await Assert.ThrowsAsync<RpcException>(() => authorization.AuthorizeAsync(
                new AuthorizeRequest { RequestId = "bad-amount-7", AccountId = "acct-1", Amount = -5, Currency = "USD" }, Deadline()).ResponseAsync);
            AssertInvalidArgument(e, "amount");
        });

        string line = Assert.Single(log.Messages, m => m.Contains("bad-amount-7"));
        Assert.Contains("/credit.v1.AuthorizationService/Authorize", line);
        Assert.Contains("InvalidArgument", line);
        Assert.Contains("account_id 'acct-1'", line);
    }

    [Fact]
    public async Task A_call_refused_by_access_control_is_logged_with_its_method_status_and_principal()
    {
        var log = new ListLogger();
        var desk = TestPrincipal.Create("desk", "reader");
        await WithLoggedServerAsync(log, [.. desk.Arguments()], async channel =>
        {
            var authorization = new AuthorizationService.AuthorizationServiceClient(channel);
            RpcException unknown = await Assert.ThrowsAsync<RpcException>(() => authorization.AuthorizeAsync(
                new AuthorizeRequest { RequestId = "no-key-1", AccountId = "acct-1", Amount = 5, Currency = "USD" }, Deadline()).ResponseAsync);
            RpcException denied = await Assert.ThrowsAsync<RpcException>(() => authorization.AuthorizeAsync(
                new AuthorizeRequest { RequestId = "wrong-role-1", AccountId = "acct-1", Amount = 5, Currency = "USD" }, desk.Call()).ResponseAsync);
            Assert.Equal(StatusCode.Unauthenticated, unknown.StatusCode);
            Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        });

        Assert.Contains("Unauthenticated", Assert.Single(log.Messages, m => m.Contains("no-key-1")));
        string line = Assert.Single(log.Messages, m => m.Contains("wrong-role-1"));
        Assert.Contains("PermissionDenied", line);
        Assert.Contains("desk", line);
    }

    /// <summary>An in-process server whose logs (the telemetry category at Information) go to <paramref name="log"/>.</summary>
    private static async Task WithLoggedServerAsync(ListLogger log, string[] extra, Func<global::Grpc.Net.Client.GrpcChannel, Task> body)
    {
        string dataDirectory = TestServer.NewDataDirectory();
        WebApplication app = ServerApp.Build([.. TestServer.Arguments(dataDirectory, [.. extra, "--Logging:LogLevel:Engine.Server.Telemetry=Information"])],
            services => services.AddSingleton<ILoggerProvider>(new ListLoggerProvider(log)));
        await app.StartAsync();
        try
        {
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress(address);
            await body(channel);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Scrapes until <paramref name="condition"/> holds (the exporter may serve a response cached for a moment), bounded.</summary>
    private static async Task<string> ScrapeUntilAsync(HttpClient http, Func<string, bool> condition)
    {
        string text = "";
        await WaitUntilAsync(async () =>
        {
            text = await http.GetStringAsync("metrics");
            return condition(text);
        }, TimeSpan.FromSeconds(30), "the scraped metrics");
        return text;
    }

    private static bool Has(string text, string name) => Regex.IsMatch(text, $"^{Regex.Escape(name)}[{{ ]", RegexOptions.Multiline);

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels include every one of <paramref name="labels"/> (0 if none).</summary>
    private static double Value(string text, string name, params (string Key, string Value)[] labels)
    {
        double sum = 0;
        foreach (Match sample in SampleLine().Matches(text))
        {
            if (sample.Groups["name"].Value != name) continue;
            string labelText = sample.Groups["labels"].Value;
            if (!labels.All(l => labelText.Contains($"{l.Key}=\"{l.Value}\"", StringComparison.Ordinal))) continue;
            sum += double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return sum;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[-+0-9.eE]+|NaN|[+-]Inf)( \d+)?$", RegexOptions.Multiline)]
    private static partial Regex SampleLine();

    private sealed class ListLoggerProvider(ListLogger log) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => log;

        public void Dispose()
        {
        }
    }
}
