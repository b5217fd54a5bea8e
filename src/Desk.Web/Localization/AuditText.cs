using System.Globalization;
using System.Text.Json;
using Desk.Domain;
using Microsoft.Extensions.Localization;

namespace Desk.Web.Localization;

/// <summary>
/// Audit and trail records as people read them: "field: old → new" per changed field instead of the stored JSON.
/// Fields ending in <c>Minor</c> are engine minor units and are shown as money in the record's currency (its
/// <c>Currency</c> field, CNY when it has none), named without the suffix.
/// </summary>
public static class AuditText
{
    public sealed record Change(string Field, string? Before, string? After);

    /// <summary>The fields of a before/after pair, in the order they first appear; unchanged fields are left out.</summary>
    public static IReadOnlyList<Change> Changes(string? beforeJson, string? afterJson)
    {
        var before = Flatten(beforeJson);
        var after = Flatten(afterJson);
        string currency = Currency(after) ?? Currency(before) ?? "CNY";
        var changes = new List<Change>();
        foreach (string key in before.Keys.Concat(after.Keys).Distinct())
        {
            before.TryGetValue(key, out JsonElement? b);
            after.TryGetValue(key, out JsonElement? a);
            string? bt = b is { } x ? Value(key, x, currency) : null, at = a is { } y ? Value(key, y, currency) : null;
            if (bt == at && beforeJson is not null && afterJson is not null) continue;
            changes.Add(new Change(Name(key), bt, at));
        }
        return changes;
    }

    /// <summary>One record (e.g. what an approver saw) as "field: value · field: value".</summary>
    public static string Fields(string? json, IStringLocalizer? text = null)
    {
        var fields = Flatten(json);
        string currency = Currency(fields) ?? "CNY";
        return string.Join(" · ", fields.Select(f => $"{Label(Name(f.Key), text)}: {(f.Value is { } v ? Value(f.Key, v, currency) : null) ?? "—"}"));
    }

    /// <summary>"field: old → new" lines of a before/after pair; creation shows "field: new", deletion "field: old → —".</summary>
    public static IEnumerable<string> Lines(string? beforeJson, string? afterJson, IStringLocalizer? text = null) =>
        Changes(beforeJson, afterJson).Select(c =>
            beforeJson is null ? $"{Label(c.Field, text)}: {c.After ?? "—"}" : $"{Label(c.Field, text)}: {c.Before ?? "—"} → {c.After ?? "—"}");

    private static string Label(string field, IStringLocalizer? text) => text is null ? field : text[field].Value;

    private static string Name(string key) =>
        key.EndsWith("Minor", StringComparison.Ordinal) && key.Length > 5 ? key[..^5] : key;

    private static string? Currency(Dictionary<string, JsonElement?> fields) =>
        fields.FirstOrDefault(f => string.Equals(f.Key, "Currency", StringComparison.OrdinalIgnoreCase)).Value is { ValueKind: JsonValueKind.String } c ? c.GetString() : null;

    private static string? Value(string key, JsonElement value, string currency)
    {
        if (key.EndsWith("Minor", StringComparison.OrdinalIgnoreCase) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long minor))
            return Money.Format(minor, currency);
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Array => string.Join(", ", value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText())),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number => value.GetRawText(),
            _ => value.GetRawText(),
        };
    }

    /// <summary>Top-level fields of a JSON object; nested objects become "outer.inner". Not an object: one field "value".</summary>
    private static Dictionary<string, JsonElement?> Flatten(string? json)
    {
        var fields = new Dictionary<string, JsonElement?>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(json)) return fields;
        JsonElement root;
        try { root = JsonDocument.Parse(json).RootElement.Clone(); }
        catch (JsonException) { fields["value"] = JsonDocument.Parse(JsonSerializer.Serialize(json)).RootElement.Clone(); return fields; }
        if (root.ValueKind != JsonValueKind.Object) { fields["value"] = root; return fields; }
        void Walk(JsonElement obj, string prefix, int depth)
        {
            foreach (var p in obj.EnumerateObject())
            {
                string name = prefix + p.Name;
                if (p.Value.ValueKind == JsonValueKind.Object && depth < 3) Walk(p.Value, name + ".", depth + 1);
                else fields[name] = p.Value;
            }
        }
        Walk(root, "", 0);
        return fields;
    }

    internal static string Invariant(long v) => v.ToString(CultureInfo.InvariantCulture);
}
