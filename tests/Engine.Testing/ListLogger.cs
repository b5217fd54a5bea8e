using Microsoft.Extensions.Logging;

namespace Engine.Testing;

/// <summary>An <see cref="ILogger"/> that keeps every entry (level and formatted message), for tests that assert what was logged. Thread-safe.</summary>
public sealed class ListLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    /// <summary>A copy of the entries so far, oldest first.</summary>
    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries) return [.. _entries];
        }
    }

    /// <summary>The messages so far, whatever their level.</summary>
    public IReadOnlyList<string> Messages => [.. Entries.Select(e => e.Message)];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string message = formatter(state, exception);
        lock (_entries) _entries.Add((logLevel, message));
    }
}
