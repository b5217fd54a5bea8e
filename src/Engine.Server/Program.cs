using Engine.Server.Hosting;
using Engine.Server.Security;

// The credit engine server: `dotnet run --project src/Engine.Server` serves gRPC (h2c) on 127.0.0.1:5000 with data
// under ./data. SIGTERM / Ctrl+C: health goes NOT_SERVING, in-flight calls finish, the engine drains, commits and
// snapshots, and the process exits 0. Exit 1: the engine fail-stopped at runtime (stage fault, EIO, ENOSPC) — restart
// it. Exit 2: start-up refused (e.g. a damaged journal) — an operator must act. Settings: README.md "Configuring it".
// `hash-key <key>` and `new-key` print a key's hash / a new key and exit (README "Access control").
if (KeyCommands.TryRun(args, Console.In, Console.Out, Console.Error) is int keyCommandExit) return keyCommandExit;
EngineHost engineHost;
try
{
    // Settings are validated while building: a bad or renamed one refuses start like a damaged journal does.
    WebApplication app = ServerApp.Build(args);
    // Resolved now: RunAsync disposes the services when it returns.
    engineHost = app.Services.GetRequiredService<EngineHost>();
    await app.RunAsync();
}
catch (Exception e)
{
    // Start-up failed (bad settings, recovery refused, data directory unusable): say it plainly.
    Console.Error.WriteLine($"FATAL: the server did not start: {e.GetType().Name}: {e.Message}");
    return ServerApp.ExitCodeStartupRefused;
}
return engineHost.ExitCode;
