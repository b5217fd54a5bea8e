using Credit.V1;
using Engine.Client;
using Engine.Server.Hosting;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Engine.Server.Tests;

/// <summary>
/// A real server in this process: the same <see cref="ServerApp.Build"/> as the executable, Kestrel on a free
/// 127.0.0.1 port, real h2c gRPC over loopback. Small journal pages keep start-up cheap.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private WebApplication? _app;
    private readonly bool _ownsDataDirectory;

    private TestServer(string dataDirectory, string address, WebApplication app, bool ownsDataDirectory)
    {
        _ownsDataDirectory = ownsDataDirectory;
        DataDirectory = dataDirectory;
        Address = address;
        _app = app;
        Channel = GrpcChannel.ForAddress(address);
        Authorization = new AuthorizationService.AuthorizationServiceClient(Channel);
        Accounts = new AccountService.AccountServiceClient(Channel);
        Pipeline = new PipelineService.PipelineServiceClient(Channel);
        Events = new EventService.EventServiceClient(Channel);
        Queries = new QueryService.QueryServiceClient(Channel);
        Sdk = new CreditEngineClient(Channel);
    }

    public string DataDirectory { get; }
    public string Address { get; }
    public GrpcChannel Channel { get; }
    public AuthorizationService.AuthorizationServiceClient Authorization { get; }
    public AccountService.AccountServiceClient Accounts { get; }
    public PipelineService.PipelineServiceClient Pipeline { get; }
    public EventService.EventServiceClient Events { get; }
    public QueryService.QueryServiceClient Queries { get; }
    public CreditEngineClient Sdk { get; }
    public IServiceProvider Services => _app!.Services;

    public static string NewDataDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "engine-server-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Arguments shared by in-process and child-process servers.</summary>
    public static List<string> Arguments(string dataDirectory, params string[] extra)
    {
        var args = new List<string>
        {
            "--urls", "http://127.0.0.1:0",
            $"--Engine:DataDirectory={dataDirectory}",
            "--Engine:JournalPageSizeBits=20",
            "--Engine:JournalMemorySizeBits=22",
            "--Engine:JournalSegmentSizeBits=24",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
            "--Server:ShutdownTimeoutSeconds=10",
        };
        args.AddRange(extra);
        return args;
    }

    public static async Task<TestServer> StartAsync(string? dataDirectory = null, params string[] extra)
    {
        bool owns = dataDirectory is null;
        dataDirectory ??= NewDataDirectory();
        WebApplication app = ServerApp.Build([.. Arguments(dataDirectory, extra)]);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new TestServer(dataDirectory, address, app, owns);
    }

    /// <summary>Graceful stop (what SIGTERM does), then the same data directory can be started again.</summary>
    public async Task StopAsync()
    {
        if (_app is null) return;
        Sdk.Dispose();
        Channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
        if (_ownsDataDirectory)
        {
            try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } // best effort
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
