using Google.Protobuf.Reflection;
using Google.Rpc;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.OpenApi.Models;

namespace Engine.Server.Json;

/// <summary>
/// A door for people (issue #14 item 7): gRPC JSON transcoding serves the RPCs that carry a <c>google.api.http</c>
/// route in protos/credit/v1 — the queries (QueryService) and account administration (AccountService) — as JSON over
/// HTTP on the same port and through the same service code, interceptors and limits as gRPC, so curl and a browser's
/// fetch work. The OpenAPI document of those routes is served at <see cref="OpenApiPath"/>. The port stays HTTP/2 (h2c
/// without TLS): curl needs <c>--http2-prior-knowledge</c> there (README.md "Calling it with curl").
/// </summary>
public static class JsonTranscoding
{
    public const string OpenApiPath = "/openapi/v1.json";

    /// <summary>
    /// Serve the OpenAPI document (default true). Off only for a host process that also loads Microsoft.OpenApi 2.x
    /// (the desk's tests run an engine in-process beside ASP.NET Core's own OpenAPI): Grpc.Swagger's Swashbuckle needs
    /// Microsoft.OpenApi 1.x, and one process loads one version.
    /// </summary>
    public const string OpenApiSetting = "Server:OpenApiDocument";

    public static WebApplicationBuilder AddJsonTranscoding(this WebApplicationBuilder builder)
    {
        builder.Services.AddGrpc().AddJsonTranscoding(transcoding =>
        {
            // Every field, defaults included (approved: false, held: "0"): a person reading a reply should not have to
            // know that proto3 JSON leaves zero values out. int64 stays a JSON string, as the proto3 JSON mapping says.
            transcoding.JsonSettings = new GrpcJsonSettings { IgnoreDefaultValues = false, WriteInt64sAsStrings = true };
            // INVALID_ARGUMENT carries a google.rpc.BadRequest naming the field (GrpcErrors): JSON needs its type to write it.
            transcoding.TypeRegistry = TypeRegistry.FromMessages(BadRequest.Descriptor);
        });
        if (builder.Configuration.GetValue(OpenApiSetting, true)) AddOpenApiDocument(builder.Services);
        return builder;
    }

    // Apart, and not inlined: with the document off, the Swashbuckle types are never loaded.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void AddOpenApiDocument(IServiceCollection services)
    {
        services.AddGrpcSwagger();
        services.AddSwaggerGen(swagger =>
        {
            // Full names: credit.v1's Status enum and google.rpc.Status (the error body) would both be "Status".
            swagger.CustomSchemaIds(type => type.FullName!.Replace('+', '.'));
            swagger.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Credit engine (JSON over HTTP)",
                Version = "v1",
                Description = "The credit.v1 QueryService and AccountService RPCs through gRPC JSON transcoding. int64 fields are JSON strings.",
            });
        });
        services.AddSingleton<IStartupFilter, OpenApiDocument>();
    }

    /// <summary>Serves the OpenAPI document in front of the gRPC pipeline (a startup filter: ServerApp maps nothing for it).</summary>
    private sealed class OpenApiDocument : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseSwagger(swagger => swagger.RouteTemplate = "openapi/{documentName}.json");
            next(app);
        };
    }
}
