namespace Engine.ReadModel;

/// <summary>
/// The read model cannot answer now: it is starting up (no log attached yet) or its feeder stopped on a fault. The
/// gRPC edge answers UNAVAILABLE with this message.
/// </summary>
public sealed class ReadModelNotRunningException(string message) : Exception(message);
