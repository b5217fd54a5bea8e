using Engine.Server.Hosting;

// The credit engine server: `dotnet run --project src/Engine.Server` serves gRPC (h2c) on 127.0.0.1:5000 with data
// under ./data. SIGTERM / Ctrl+C: health goes NOT_SERVING, in-flight calls finish, the engine drains, commits and
// snapshots, and the process exits 0. Settings: README.md "Configuring it".
WebApplication app = ServerApp.Build(args);
await app.RunAsync();
return 0;
