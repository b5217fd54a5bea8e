using Microsoft.Extensions.Logging;

namespace Engine.Bench;

/// <summary>Prints each engine log entry as one console line, <c>[prefix] level: message</c>, beside the benchmark's own output.</summary>
internal sealed class ConsoleLineLogger(string prefix) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string level = logLevel == LogLevel.Information ? "" : logLevel.ToString().ToUpperInvariant() + ": ";
        Console.WriteLine($"[{prefix}] {level}{formatter(state, exception)}");
    }
}
