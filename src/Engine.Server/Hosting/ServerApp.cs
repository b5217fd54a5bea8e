using Engine.Core;
using Engine.Server.Edge;
using Engine.Server.Grpc;
using Engine.Server.Json;
using Engine.ReadModel;
using Engine.Server.Replication;
using Engine.Server.Security;
using Engine.Server.Telemetry;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Engine.Server.Hosting;

/// <summary>
/// Builds the server: configuration (appsettings.json, environment variables, command line — the usual ASP.NET Core
/// order), Kestrel with HTTP/2 without TLS on 127.0.0.1:5000 unless told otherwise, the engine and read model, the
/// credit.v1 services, grpc.health.v1.Health and server reflection. Tests build it in-process with their own arguments.
/// </summary>
public static class ServerApp
{
    public const string DefaultUrl = "http://127.0.0.1:5000";

    /// <summary>Process exit code when start-up failed (recovery refused, bad settings): restarting alone will not help.</summary>
    public const int ExitCodeStartupRefused = 2;

    /// <param name="args">Command-line arguments.</param>
    /// <param name="configureServices">Tests only: last word on the services (e.g. a storage fault injector).</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        var serverOptions = builder.Configuration.GetSection(ServerOptions.SectionName).Get<ServerOptions>() ?? new ServerOptions();
        serverOptions.Validate();
        var role = builder.Configuration.GetSection("Engine").Get<ServerRoleOptions>() ?? new ServerRoleOptions();
        role.Validate();
        RenamedSettings.RefuseOldNames(builder.Configuration);
        // Failed calls are logged with their request id and principal (README "Operating it"); first, so refusals by
        // access control and the rate limit are logged too.
        builder.AddErrorLogging();
        // API keys and roles, the refusal to run open on a reachable address, TLS (README "Access control"). Before AddGrpc: its interceptor runs first.
        builder.AddAccessControl();

        // Loopback by default; a container or operator widens it explicitly (--urls, URLS / ASPNETCORE_URLS, Kestrel:Endpoints).
        if (!IsBindingConfigured(builder.Configuration)) builder.WebHost.UseUrls(DefaultUrl);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // gRPC needs HTTP/2; without TLS there is no ALPN, so endpoints speak HTTP/2 only (h2c, prior knowledge).
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.AddServerHeader = false;
            // Larger flow-control windows keep one Execute stream from stalling on the default 96 KiB window.
            kestrel.Limits.Http2.InitialConnectionWindowSize = 4 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 2 * 1024 * 1024;
        });
        builder.AddEdgeLimits();
        builder.AddMetricsEndpoint();
        builder.AddJsonTranscoding();
        builder.Host.ConfigureHostOptions(host =>
        {
            host.ShutdownTimeout = TimeSpan.FromSeconds(serverOptions.ShutdownTimeoutSeconds);
            host.ServicesStartConcurrently = false;
            host.ServicesStopConcurrently = false;
        });

        builder.Services.Configure<EngineOptions>(builder.Configuration.GetSection("Engine"));
        builder.Services.Configure<ServerOptions>(builder.Configuration.GetSection(ServerOptions.SectionName));
        builder.Services.Configure<ReadModelOptions>(builder.Configuration.GetSection(ReadModelOptions.SectionName));
        builder.Services.Configure<ServerRoleOptions>(builder.Configuration.GetSection("Engine"));
        builder.Services.Configure<ReplicaOptions>(builder.Configuration.GetSection(ReplicaOptions.SectionName));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<HealthServiceImpl>();
        builder.Services.AddSingleton<LedgerReadModel>();
        builder.Services.AddSingleton<SubscriberRegistry>();
        builder.Services.AddSingleton<ReadModelFeed>();
        builder.Services.AddSingleton<ReplicationMetrics>();
        builder.Services.AddSingleton<EngineHost>();
        // Registered before the web server's own hosted service: started first (recovery before accepting), stopped last (after draining).
        // A read replica runs no engine: its host recovers the read model from the replica's disk and follows the leader.
        if (role.IsReplica)
        {
            builder.Services.AddSingleton<ReplicaHost>();
            builder.Services.AddHostedService(services => services.GetRequiredService<ReplicaHost>());
        }
        else
        {
            builder.Services.AddHostedService(services => services.GetRequiredService<EngineHost>());
        }
        builder.Services.AddSingleton<CommandGateway>();

        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = serverOptions.MaxReceiveMessageBytes;
            grpc.MaxSendMessageSize = serverOptions.MaxSendMessageBytes;
            grpc.EnableDetailedErrors = false;
        }).AddServiceOptions<PipelineGrpcService>(pipeline => pipeline.MaxReceiveMessageSize = serverOptions.ExecuteMaxReceiveMessageBytes)
          .AddServiceOptions<ZeroCopyPipelineService.Handler>(pipeline => pipeline.MaxReceiveMessageSize = serverOptions.ExecuteMaxReceiveMessageBytes);
        builder.Services.AddGrpcReflection();
        configureServices?.Invoke(builder.Services);

        WebApplication app = builder.Build();
        app.MapGrpcService<AuthorizationGrpcService>();
        app.MapGrpcService<AccountGrpcService>();
        app.MapGrpcService<LifecycleGrpcService>();
        if (serverOptions.ZeroCopyExecute) app.MapGrpcService<ZeroCopyPipelineService.Handler>();
        else app.MapGrpcService<PipelineGrpcService>();
        app.MapGrpcService<EventGrpcService>();
        app.MapGrpcService<QueryGrpcService>();
        app.MapGrpcService<ReplicationGrpcService>();
        app.MapGrpcService<HealthServiceImpl>();
        app.MapGrpcReflectionService();
        // Created eagerly so the gauges exist from the start.
        app.Services.GetRequiredService<ReplicationMetrics>();
        return app;
    }

    private static bool IsBindingConfigured(IConfiguration configuration) =>
        !string.IsNullOrEmpty(configuration["urls"])
        || !string.IsNullOrEmpty(configuration["http_ports"])
        || !string.IsNullOrEmpty(configuration["https_ports"])
        || configuration.GetSection("Kestrel:Endpoints").Exists();
}
