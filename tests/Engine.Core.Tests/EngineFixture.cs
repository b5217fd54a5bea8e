using Engine.Core;
using Engine.Domain;
using Engine.Journal;

namespace Engine.Core.Tests;

/// <summary>A temporary data directory and helpers to start engines on it and read its journal.</summary>
public sealed class TempDataDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "engine-tests", Guid.NewGuid().ToString("N"));

    public TempDataDirectory() => Directory.CreateDirectory(Path);

    public EngineOptions Options(Action<EngineOptions>? configure = null)
    {
        // The whole log is kept unless a test opts into retention: many tests read it from the first event.
        var options = new EngineOptions { DataDirectory = Path, RingSize = 1024, SnapshotIntervalSeconds = 0, SnapshotEveryEvents = 0, TruncateJournal = false };
        configure?.Invoke(options);
        return options;
    }

    public string JournalDirectory => System.IO.Path.Combine(Path, "journal");
    public string SnapshotDirectory => System.IO.Path.Combine(Path, "snapshots");

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

internal static class JournalEvents
{
    /// <summary>Every committed event of a journal, in order.</summary>
    public static List<LedgerEvent> ReadAll(EventJournal journal)
    {
        var sink = new CollectingSink();
        using JournalReader reader = journal.OpenReader(journal.BeginAddress);
        while (reader.TryReadNext(out ReadOnlySpan<byte> payload, out _, out _)) EventBlock.Decode(payload, sink);
        return sink.Events;
    }

    public sealed class CollectingSink : IEventSink
    {
        public List<LedgerEvent> Events { get; } = new();
        public void OnEvent(in LedgerEvent ledgerEvent) => Events.Add(ledgerEvent);
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _nowUnixMs = start.ToUnixTimeMilliseconds();
    public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeMilliseconds(Volatile.Read(ref _nowUnixMs));
    public void Advance(TimeSpan by) => Interlocked.Add(ref _nowUnixMs, (long)by.TotalMilliseconds);
}
