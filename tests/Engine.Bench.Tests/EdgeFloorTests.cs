using System.Buffers.Binary;
using System.Text.Json;
using Credit.V1;
using Engine.Bench.Edge;
using Engine.Bench.Peers;
using HdrHistogram;

namespace Engine.Bench.Tests;

/// <summary>
/// The edge floor (issue #12 item 1): h2load's summary and per-request log are read as they are written, the body is a
/// valid gRPC frame, and a toy-sized run measures both the stub and the engine — where the replays of one request id
/// leave exactly one hold.
/// </summary>
public sealed class EdgeFloorTests
{
    private const string H2loadSummary = """
        finished in 133.19ms, 150.16 req/s, 8.18KB/s
        requests: 20 total, 20 started, 20 done, 18 succeeded, 2 failed, 1 errored, 0 timeout
        status codes: 20 2xx, 0 3xx, 0 4xx, 0 5xx
        """;

    [Fact]
    public void H2load_summary_is_read_as_succeeded_failed_errored_seconds_and_rate()
    {
        EdgeFloorBenchmark.H2loadResult result = EdgeFloorBenchmark.ParseH2load(H2loadSummary);
        Assert.Equal(18, result.Succeeded);
        Assert.Equal(2, result.Failed);
        Assert.Equal(1, result.Errored);
        Assert.Equal(0.13319, result.Seconds, 6);
        Assert.Equal(150.16, result.RequestsPerSecond, 2);
    }

    [Fact]
    public void H2load_output_without_a_summary_is_an_error_that_shows_the_output()
    {
        var error = Assert.Throws<InvalidOperationException>(() => EdgeFloorBenchmark.ParseH2load("connect to 127.0.0.1 port 1 failed"));
        Assert.Contains("connect to 127.0.0.1", error.Message);
    }

    [Fact]
    public void H2load_log_lines_become_latencies_and_statuses_other_than_200_are_counted()
    {
        string log = Path.Combine(Path.GetTempPath(), $"edge-floor-log-{Guid.NewGuid():N}.tsv");
        File.WriteAllLines(log, ["1796312199340539\t200\t1000", "1796312199340542\t200\t3000", "1796312199467466\t503\t2000", ""]);
        try
        {
            var histogram = EdgeFloorBenchmark.ReadLatencies(log, out long logged, out long not200);
            Assert.Equal(3, logged);
            Assert.Equal(1, not200);
            Assert.Equal(3, histogram.TotalCount);
            Assert.InRange(histogram.GetMaxValue(), 3000, 3003);
            Assert.InRange(histogram.GetValueAtPercentile(50), 1999, 2002);
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public void A_grpc_frame_is_the_message_behind_an_uncompressed_flag_and_its_big_endian_length()
    {
        var request = new AuthorizeRequest { RequestId = "r-1", AccountId = "a-1", Amount = 1_000, Currency = "USD" };
        byte[] frame = EdgeFloorBenchmark.GrpcFrame(request);
        Assert.Equal(0, frame[0]);
        Assert.Equal((uint)frame.Length - 5, BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(1, 4)));
        Assert.Equal(request, AuthorizeRequest.Parser.ParseFrom(frame.AsSpan(5)));
    }

    [Fact]
    public async Task Edge_floor_measures_the_stub_and_the_engine_and_the_engine_keeps_one_hold_for_all_replays()
    {
        string json = Path.Combine(Path.GetTempPath(), $"edge-floor-{Guid.NewGuid():N}.json");
        try
        {
            int exit = await EdgeFloorBenchmark.RunAsync(new BenchArgs(["--seconds", "1", "--warmup-seconds", "0", "--connections", "2", "--in-flight", "4", "--json", json]))
                .WaitAsync(TimeSpan.FromMinutes(5));
            using JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            Assert.True(exit == 0, report.RootElement.ToString());
            JsonElement[] rows = [.. report.RootElement.GetProperty("rows").EnumerateArray()];
            Assert.Equal(["stub", "engine"], rows.Select(row => row.GetProperty("server").GetString()));
            foreach (JsonElement row in rows)
            {
                Assert.Equal("passed", row.GetProperty("check").GetString());
                Assert.True(row.GetProperty("calls").GetInt64() > 0);
                Assert.Equal(0, row.GetProperty("failed").GetInt64());
                Assert.True(row.GetProperty("server_cpu_us_per_call").GetDouble() > 0);
                Assert.Equal(row.GetProperty("calls").GetInt64(), row.GetProperty("latency_samples").GetInt64());
            }
            Assert.Single(report.RootElement.GetProperty("engine_vs_stub").EnumerateArray());
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public async Task The_grpc_stub_floor_row_is_not_durable_yet_passes_on_its_read_back_and_is_in_no_ratio()
    {
        var options = new PeersOptions
        {
            Systems = [PeersOptions.GrpcStub, PeersOptions.EngineGrpc],
            Seconds = 1,
            WarmupSeconds = 0,
            Clients = 4,
            Accounts = 4,
            MaxRequests = 100_000,
            Command = "grpc-stub test",
        };
        PeersReport report = await PeersBenchmark.RunAsync(options, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(5));
        PeerRow stub = report.Rows.Single(row => row.Name == PeersOptions.GrpcStub);
        Assert.False(stub.Durable);
        Assert.True(stub.Floor);
        Assert.True(stub.PerSecond > 0);
        Assert.True(stub.CrossCheckPassed, $"stub held {stub.HeldTotalMinor} != approved {stub.ApprovedAmountTotalMinor}");
        Assert.True(report.Passed);
        Assert.DoesNotContain(report.Ratios, ratio => ratio.Peer == PeersOptions.GrpcStub || ratio.Engine == PeersOptions.GrpcStub);
    }
}
