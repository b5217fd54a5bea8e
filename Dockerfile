# syntax=docker/dockerfile:1
# Credit engine server: multi-stage build (SDK → ASP.NET runtime), non-root, data on a volume.
#   docker build -t credit-engine .
#   docker run --rm -p 127.0.0.1:5000:5000 -v credit-data:/data -v /etc/credit:/keys:ro -e Access__KeyFile=/keys/keys.json credit-engine

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so source edits do not invalidate the package layer.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/Engine.Domain/Engine.Domain.csproj src/Engine.Domain/
COPY src/Engine.Ring/Engine.Ring.csproj src/Engine.Ring/
COPY src/Engine.Journal/Engine.Journal.csproj src/Engine.Journal/
COPY src/Engine.Core/Engine.Core.csproj src/Engine.Core/
COPY src/Engine.ReadModel/Engine.ReadModel.csproj src/Engine.ReadModel/
COPY src/Engine.Client/Engine.Client.csproj src/Engine.Client/
COPY src/Engine.Server/Engine.Server.csproj src/Engine.Server/
RUN dotnet restore src/Engine.Server/Engine.Server.csproj
COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/Engine.Server/Engine.Server.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
RUN mkdir -p /data && chown -R app:app /data
# Inside the container only: listen on all interfaces (the host publishes the port; outside a container the
# server binds 127.0.0.1). The base image's HTTP_PORTS default is cleared so URLS is the only binding.
# Listening on 0.0.0.0 needs API keys: without any the server refuses to start (exit 2, README "Access control").
# Mount a key file and point Access__KeyFile at it, e.g.
#   docker run -p 127.0.0.1:5000:5000 -v credit-data:/data -v /etc/credit:/keys:ro -e Access__KeyFile=/keys/keys.json credit-engine
# or pass Access__Principals__<name>__Roles / Access__Principals__<name>__KeyHashes (SHA-256 of the key, never the key).
ENV ASPNETCORE_HTTP_PORTS= \
    ASPNETCORE_URLS=http://0.0.0.0:5000 \
    Engine__DataDirectory=/data \
    DOTNET_gcServer=0
VOLUME ["/data"]
EXPOSE 5000
# The image has no grpc_health_probe; an HTTP/2 request to a gRPC path without a body still needs h2c, so probe
# that the port accepts connections and leave SERVING / NOT_SERVING to grpc.health.v1.Health for orchestrators.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5000"]
USER app
# SIGTERM (docker stop) drains and snapshots; give it time: docker stop -t 40.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "Engine.Server.dll"]
