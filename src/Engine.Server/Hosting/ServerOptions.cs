namespace Engine.Server.Hosting;

/// <summary>Limits of the gRPC edge, bound from configuration section <c>Server</c>. Every limit is documented in README.md.</summary>
public sealed class ServerOptions
{
    public const string SectionName = "Server";

    /// <summary>Most commands in one Execute batch; larger batches are INVALID_ARGUMENT.</summary>
    public int ExecuteBatchSizeMax { get; set; } = 10_000;
    /// <summary>Execute batches one stream may have in the engine at once; beyond it the server stops reading (HTTP/2 flow control pushes back).</summary>
    public int ExecuteInFlightBatchesMax { get; set; } = 8;
    /// <summary>Execute decodes requests straight into domain commands and encodes replies straight from the engine's replies (ExecuteWire); false = the generated protobuf types. Default true.</summary>
    public bool ZeroCopyExecute { get; set; } = true;
    /// <summary>Largest request message of the unary RPCs, bytes. A command is well under 1 KiB.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 64 * 1024;
    /// <summary>Largest Execute request message, bytes: 10,000 commands at their validated maxima fit in 16 MiB.</summary>
    public int ExecuteMaxReceiveMessageBytes { get; set; } = 16 * 1024 * 1024;
    /// <summary>Largest response message, bytes (a page of 1,000 events or a full Execute reply fits).</summary>
    public int MaxSendMessageBytes { get; set; } = 16 * 1024 * 1024;
    /// <summary>Most events per Subscribe message.</summary>
    public int SubscribeBatchEventsMax { get; set; } = 512;
    /// <summary>How long shutdown waits for in-flight calls to finish before the engine is stopped anyway.</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    public void Validate()
    {
        if (ExecuteBatchSizeMax is < 1 or > 1_000_000) throw new ArgumentException("Server:ExecuteBatchSizeMax must be 1..1,000,000");
        if (ExecuteInFlightBatchesMax is < 1 or > 1024) throw new ArgumentException("Server:ExecuteInFlightBatchesMax must be 1..1024");
        if (MaxReceiveMessageBytes < 4096) throw new ArgumentException("Server:MaxReceiveMessageBytes must be >= 4096");
        if (ExecuteMaxReceiveMessageBytes < MaxReceiveMessageBytes) throw new ArgumentException("Server:ExecuteMaxReceiveMessageBytes must be >= Server:MaxReceiveMessageBytes");
        if (MaxSendMessageBytes < 1024 * 1024) throw new ArgumentException("Server:MaxSendMessageBytes must be >= 1 MiB");
        if (SubscribeBatchEventsMax is < 1 or > 10_000) throw new ArgumentException("Server:SubscribeBatchEventsMax must be 1..10,000");
        if (ShutdownTimeoutSeconds is < 1 or > 3600) throw new ArgumentException("Server:ShutdownTimeoutSeconds must be 1..3600");
    }
}
