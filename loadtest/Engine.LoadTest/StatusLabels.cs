using System.Reflection;
using Google.Protobuf.Reflection;

namespace Engine.LoadTest;

/// <summary>Report labels: the proto name of a reply status with its ISO 8583 code, e.g. <c>STATUS_INSUFFICIENT_CREDIT (51)</c>.</summary>
public static class StatusLabels
{
    /// <summary>An open-loop send refused because --max-in-flight commands were outstanding.</summary>
    public const string InFlightLimit = "CLIENT_IN_FLIGHT_LIMIT";
    /// <summary>A command still unanswered when the end-of-run drain gave up.</summary>
    public const string DrainTimeout = "CLIENT_DRAIN_TIMEOUT";

    private static readonly Dictionary<Credit.V1.Status, string> Names = Enum.GetValues<Credit.V1.Status>().ToDictionary(
        status => status,
        status => typeof(Credit.V1.Status).GetField(status.ToString())?.GetCustomAttribute<OriginalNameAttribute>()?.Name ?? status.ToString());

    public static string Of(Credit.V1.Status status, string responseCode) =>
        $"{Names.GetValueOrDefault(status, status.ToString())} ({(responseCode.Length == 0 ? "-" : responseCode)})";

    /// <summary>A gRPC error, e.g. <c>RESOURCE_EXHAUSTED</c>.</summary>
    public static string Of(Grpc.Core.StatusCode code) => code switch
    {
        Grpc.Core.StatusCode.OK => "OK",
        _ => string.Concat(code.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant(),
    };
}
