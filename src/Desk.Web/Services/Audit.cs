using System.Text.Json;
using System.Text.Json.Serialization;
using Desk.Domain;
using Desk.Web.Data;

namespace Desk.Web.Services;

/// <summary>Appends audit entries (who, when, what, before → after) in the caller's unit of work.</summary>
public static class Audit
{
    private static readonly JsonSerializerOptions Json = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string ToJson(object? value) => JsonSerializer.Serialize(value, Json);

    public static void Record(DeskDb db, string actor, string entityType, object entityId, string action, object? before, object? after, DateTimeOffset at)
    {
        db.Audit.Add(new AuditEntry
        {
            At = at,
            Actor = actor,
            EntityType = entityType,
            EntityId = entityId.ToString() ?? "",
            Action = action,
            Before = before is null ? null : ToJson(before),
            After = after is null ? null : ToJson(after),
        });
    }

    /// <summary>Only the fields that differ, as (before, after) dictionaries; null when nothing changed.</summary>
    public static (Dictionary<string, object?> Before, Dictionary<string, object?> After)? Diff<T>(T before, T after, params string[] ignore)
    {
        var b = new Dictionary<string, object?>();
        var a = new Dictionary<string, object?>();
        foreach (var p in typeof(T).GetProperties())
        {
            if (ignore.Contains(p.Name) || !(p.PropertyType.IsValueType || p.PropertyType == typeof(string))) continue;
            object? x = p.GetValue(before), y = p.GetValue(after);
            if (!Equals(x, y)) { b[p.Name] = x; a[p.Name] = y; }
        }
        return b.Count == 0 ? null : (b, a);
    }
}
