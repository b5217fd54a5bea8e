using System.Text.Json;
using Engine.Domain;
using Engine.Journal;

namespace Engine.Core;

/// <summary>One named durable consumer's position, as persisted. Immutable: every change makes a new one.</summary>
/// <param name="Name">The consumer's name (Subscribe's <c>subscriber_name</c>): 1–64 printable ASCII.</param>
/// <param name="AckedSequence">The last sequence the consumer acknowledged (0 = none): retention keeps every event after it.</param>
/// <param name="RegisteredAtUnixMs">When the cursor was registered (wall clock of the engine).</param>
/// <param name="AckedAtUnixMs">When it last acknowledged (its registration time until then).</param>
/// <param name="DroppedReason">Why retention dropped it (null while it holds retention). A dropped cursor holds nothing and refuses the consumer until deleted.</param>
/// <param name="DroppedAtUnixMs">When it was dropped (0 while live).</param>
public sealed record ConsumerCursor(string Name, long AckedSequence, long RegisteredAtUnixMs, long AckedAtUnixMs, string? DroppedReason, long DroppedAtUnixMs)
{
    public bool Dropped => DroppedReason is not null;
}

/// <summary>Why a cursor operation was refused.</summary>
public enum ConsumerCursorError
{
    NotFound,
    Dropped,
    LimitReached,
}

/// <summary>A refused cursor operation; <see cref="Error"/> says which kind, the message says what to do.</summary>
public sealed class ConsumerCursorException(ConsumerCursorError error, string message) : Exception(message)
{
    public ConsumerCursorError Error { get; } = error;
}

/// <summary>
/// The named durable consumers of the event stream and their acknowledged positions, persisted in
/// <c>&lt;data&gt;/consumer-cursors.json</c>. A live cursor holds journal retention back: events after its
/// acknowledged sequence are not truncated (within <see cref="RetentionOptions.CursorLagMaxMs"/>,
/// <see cref="RetentionOptions.CursorLagBytesMax"/> and the disk budget; past them retention drops the cursor).
/// </summary>
/// <remarks>
/// Every change is written with <see cref="AtomicFile.Replace"/> (temp file, fsync, rename, directory fsync) before
/// the call returns, so an acknowledged position survives kill -9 and power loss, and a crash mid-write leaves the
/// previous version. The whole file is rewritten each time: it is small (at most <see cref="RetentionOptions.CursorsMax"/>
/// entries) and changes at the consumers' acknowledgement rate. One lock serialises changes and their writes; readers
/// get an immutable copy.
/// </remarks>
public sealed class ConsumerCursors
{
    public const string FileName = "consumer-cursors.json";
    private const int FormatVersion = 1;

    private readonly string _path;
    private readonly int _cursorsMax;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private Dictionary<string, ConsumerCursor> _cursors;
    // Copy-on-write list for readers (status, retention); replaced under _lock after each change.
    private volatile IReadOnlyList<ConsumerCursor> _published;

    private ConsumerCursors(string path, int cursorsMax, Dictionary<string, ConsumerCursor> cursors, ILogger logger)
    {
        _path = path;
        _cursorsMax = cursorsMax;
        _cursors = cursors;
        _logger = logger;
        _published = Publish(cursors);
    }

    /// <summary>Loads the cursors of <paramref name="dataDirectory"/> (none when the file does not exist). A file that does not parse stops start-up: cursors are never silently forgotten.</summary>
    public static ConsumerCursors Open(string dataDirectory, int cursorsMax, ILogger logger)
    {
        string path = Path.Combine(dataDirectory, FileName);
        var cursors = new Dictionary<string, ConsumerCursor>(StringComparer.Ordinal);
        if (File.Exists(path))
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
                JsonElement root = document.RootElement;
                int version = root.GetProperty("version").GetInt32();
                if (version != FormatVersion) throw new FormatException($"version {version}, expected {FormatVersion}");
                foreach (JsonElement entry in root.GetProperty("cursors").EnumerateArray())
                {
                    string name = entry.GetProperty("name").GetString() ?? throw new FormatException("a cursor without a name");
                    string? dropped = entry.TryGetProperty("dropped_reason", out JsonElement reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() : null;
                    cursors[name] = new ConsumerCursor(name, entry.GetProperty("acked_sequence").GetInt64(), entry.GetProperty("registered_at_unix_ms").GetInt64(),
                        entry.GetProperty("acked_at_unix_ms").GetInt64(), dropped, entry.GetProperty("dropped_at_unix_ms").GetInt64());
                }
            }
            catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidDataException($"the consumer cursor file '{path}' does not parse ({e.Message}); fix or remove it (removing it forgets every consumer's position)", e);
            }
            logger.LogInformation("consumer cursors: {Count} loaded from {Path}", cursors.Count, path);
        }
        return new ConsumerCursors(path, cursorsMax, cursors, logger);
    }

    /// <summary>Every cursor, live and dropped, ordered by name. An immutable copy.</summary>
    public IReadOnlyList<ConsumerCursor> All => _published;

    public bool TryGet(string name, out ConsumerCursor cursor)
    {
        lock (_lock) return _cursors.TryGetValue(name, out cursor!);
    }

    /// <summary>
    /// The cursor named <paramref name="name"/>, registered now with <paramref name="ackedSequenceIfNew"/> when it
    /// does not exist. <paramref name="created"/> says which.
    /// </summary>
    /// <exception cref="ConsumerCursorException">It was dropped (<see cref="ConsumerCursorError.Dropped"/>), or the limit is reached.</exception>
    public ConsumerCursor Register(string name, long ackedSequenceIfNew, long nowUnixMs, out bool created)
    {
        CheckName(name);
        ArgumentOutOfRangeException.ThrowIfNegative(ackedSequenceIfNew);
        lock (_lock)
        {
            created = false;
            if (_cursors.TryGetValue(name, out ConsumerCursor? existing))
            {
                if (existing.Dropped) throw DroppedError(existing);
                return existing;
            }
            if (_cursors.Count >= _cursorsMax)
                throw new ConsumerCursorException(ConsumerCursorError.LimitReached,
                    $"cursor '{name}' cannot be registered: this engine already keeps Engine:Retention:CursorsMax = {_cursorsMax} cursors (dropped ones count until DeleteCursor)");
            var cursor = new ConsumerCursor(name, ackedSequenceIfNew, nowUnixMs, nowUnixMs, null, 0);
            Change(c => c[name] = cursor);
            created = true;
            _logger.LogInformation("consumer cursors: '{Name}' registered at acknowledged sequence {AckedSequence}", name, ackedSequenceIfNew);
            return cursor;
        }
    }

    /// <summary>
    /// Records that the consumer has processed every event up to <paramref name="sequence"/>, durably. An
    /// acknowledgement at or below the current one changes nothing (acknowledgements may arrive twice or out of order).
    /// </summary>
    /// <exception cref="ConsumerCursorException">No such cursor, or it was dropped.</exception>
    public ConsumerCursor Acknowledge(string name, long sequence, long nowUnixMs)
    {
        lock (_lock)
        {
            if (!_cursors.TryGetValue(name, out ConsumerCursor? cursor))
                throw new ConsumerCursorException(ConsumerCursorError.NotFound, $"no cursor named '{name}'; register it with Subscribe(subscriber_name, durable_cursor = true)");
            if (cursor.Dropped) throw DroppedError(cursor);
            if (sequence <= cursor.AckedSequence) return cursor;
            ConsumerCursor acked = cursor with { AckedSequence = sequence, AckedAtUnixMs = nowUnixMs };
            Change(c => c[name] = acked);
            return acked;
        }
    }

    /// <summary>Deletes a cursor (live or dropped); it then holds nothing and the name may be registered again.</summary>
    public bool Delete(string name)
    {
        lock (_lock)
        {
            if (!_cursors.ContainsKey(name)) return false;
            Change(c => c.Remove(name));
            _logger.LogInformation("consumer cursors: '{Name}' deleted", name);
            return true;
        }
    }

    /// <summary>Retention: marks a cursor dropped (it stops holding retention), durably, unless it changed since <paramref name="seen"/> was read.</summary>
    internal bool Drop(ConsumerCursor seen, string reason, long nowUnixMs)
    {
        lock (_lock)
        {
            // Only the version retention evaluated: an acknowledgement that arrived meanwhile is judged next pass.
            if (!_cursors.TryGetValue(seen.Name, out ConsumerCursor? current) || current != seen || current.Dropped) return false;
            Change(c => c[seen.Name] = current with { DroppedReason = reason, DroppedAtUnixMs = nowUnixMs });
            return true;
        }
    }

    public static ConsumerCursorException DroppedError(ConsumerCursor cursor) =>
        new(ConsumerCursorError.Dropped,
            $"cursor '{cursor.Name}' was dropped at {DateTimeOffset.FromUnixTimeMilliseconds(cursor.DroppedAtUnixMs):O}: {cursor.DroppedReason}. " +
            $"Events after its acknowledged sequence {cursor.AckedSequence} may no longer be in the journal; " +
            "call DeleteCursor, then re-register (and rebuild from a snapshot if what you need is gone)");

    private static void CheckName(string name)
    {
        if (CommandValidator.CheckId(name, "subscriber_name", required: true) is { } error)
            throw new ArgumentException($"{error.Field}: {error.Message}", nameof(name));
    }

    /// <summary>Applies a change to a copy, writes the copy durably, and only then makes it current: a failed write changes nothing.</summary>
    private void Change(Action<Dictionary<string, ConsumerCursor>> change)
    {
        var next = new Dictionary<string, ConsumerCursor>(_cursors, StringComparer.Ordinal);
        change(next);
        AtomicFile.Replace(_path, Serialize(next));
        _cursors = next;
        _published = Publish(next);
    }

    private static IReadOnlyList<ConsumerCursor> Publish(Dictionary<string, ConsumerCursor> cursors) =>
        cursors.Values.OrderBy(c => c.Name, StringComparer.Ordinal).ToArray();

    private static byte[] Serialize(Dictionary<string, ConsumerCursor> cursors)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("version", FormatVersion);
            json.WriteStartArray("cursors");
            foreach (ConsumerCursor cursor in Publish(cursors))
            {
                json.WriteStartObject();
                json.WriteString("name", cursor.Name);
                json.WriteNumber("acked_sequence", cursor.AckedSequence);
                json.WriteNumber("registered_at_unix_ms", cursor.RegisteredAtUnixMs);
                json.WriteNumber("acked_at_unix_ms", cursor.AckedAtUnixMs);
                if (cursor.DroppedReason is null) json.WriteNull("dropped_reason");
                else json.WriteString("dropped_reason", cursor.DroppedReason);
                json.WriteNumber("dropped_at_unix_ms", cursor.DroppedAtUnixMs);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
