using Grpc.Core;

namespace Engine.Server.Edge;

/// <summary>
/// Who sent a call, for limits partitioned per principal: the authenticated name on the HTTP context (set by access
/// control), or <see cref="Anonymous"/> when the server runs open.
/// </summary>
public static class CallPrincipal
{
    public const string Anonymous = "anonymous";

    public static string Of(ServerCallContext context) => Of(context.GetHttpContext());

    public static string Of(HttpContext? http) => http?.User.Identity?.Name is { Length: > 0 } name ? name : Anonymous;
}
