using System.Text.Json;
using System.Text.Json.Serialization;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

/// <summary>The approval route policy and scoring model in force: the newest stored version of each.</summary>
public static class Policies
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static async Task<(int Version, RoutePolicy Policy)> RoutesAsync(DeskDb db, CancellationToken ct = default)
    {
        var row = await db.RoutePolicies.AsNoTracking().OrderByDescending(p => p.Version).FirstOrDefaultAsync(ct);
        return row is null ? (0, RoutePolicy.Default()) : (row.Version, JsonSerializer.Deserialize<RoutePolicy>(row.Json, Json)!);
    }

    public static async Task<ScoringModel> ScoringAsync(DeskDb db, CancellationToken ct = default)
    {
        var row = await db.ScoringModels.AsNoTracking().OrderByDescending(p => p.Version).FirstOrDefaultAsync(ct);
        return row is null ? ScoringModel.Default() : Deserialize(row);
    }

    public static ScoringModel Deserialize(ScoringModelVersion row)
    {
        var model = JsonSerializer.Deserialize<ScoringModel>(row.Json, Json)!;
        model.Version = row.Version;
        return model;
    }

    /// <summary>Stores a new route policy version after validation; returns the problems instead when it is invalid.</summary>
    public static async Task<IReadOnlyList<string>> SaveRoutesAsync(DeskDb db, string json, string actor, DateTimeOffset now)
    {
        RoutePolicy? policy;
        try { policy = JsonSerializer.Deserialize<RoutePolicy>(json, Json); }
        catch (JsonException e) { return [$"json: {e.Message}"]; }
        if (policy is null) return ["json: empty"];
        var problems = policy.Validate();
        if (problems.Count > 0) return problems;
        var (version, old) = await RoutesAsync(db);
        db.RoutePolicies.Add(new RoutePolicyVersion { Version = version + 1, Json = JsonSerializer.Serialize(policy, Json), CreatedBy = actor, CreatedAt = now });
        Audit.Record(db, actor, "RoutePolicy", version + 1, "create-version", new { version, policy = old }, new { version = version + 1, policy }, now);
        await db.SaveChangesAsync();
        return [];
    }

    public static async Task<IReadOnlyList<string>> SaveScoringAsync(DeskDb db, string json, string actor, DateTimeOffset now)
    {
        ScoringModel? model;
        try { model = JsonSerializer.Deserialize<ScoringModel>(json, Json); }
        catch (JsonException e) { return [$"json: {e.Message}"]; }
        if (model is null) return ["json: empty"];
        var problems = model.Validate();
        if (problems.Count > 0) return problems;
        int version = (await db.ScoringModels.MaxAsync(m => (int?)m.Version) ?? 0) + 1;
        model.Version = version;
        db.ScoringModels.Add(new ScoringModelVersion { Version = version, Json = JsonSerializer.Serialize(model, Json), CreatedBy = actor, CreatedAt = now });
        Audit.Record(db, actor, "ScoringModel", version, "create-version", null, new { version }, now);
        await db.SaveChangesAsync();
        return [];
    }

    public const string CollectionsKey = "collections.policy";

    /// <summary>The reminder rules and message templates in force (the defaults until someone saves them).</summary>
    public static async Task<CollectionsPolicy> CollectionsAsync(DeskDb db, CancellationToken ct = default)
    {
        var row = await db.Settings.AsNoTracking().FirstOrDefaultAsync(s => s.Key == CollectionsKey, ct);
        return row is null ? new CollectionsPolicy() : JsonSerializer.Deserialize<CollectionsPolicy>(row.Value, Json)!;
    }

    public static async Task<IReadOnlyList<string>> SaveCollectionsAsync(DeskDb db, string json, string actor, DateTimeOffset now)
    {
        CollectionsPolicy? policy;
        try { policy = JsonSerializer.Deserialize<CollectionsPolicy>(json, Json); }
        catch (JsonException e) { return [$"json: {e.Message}"]; }
        if (policy is null) return ["json: empty"];
        var problems = policy.Validate();
        if (problems.Count > 0) return problems;
        var row = await db.Settings.FindAsync([CollectionsKey]);
        string value = JsonSerializer.Serialize(policy, Json);
        string? before = row?.Value;
        if (row is null) db.Settings.Add(new DeskSetting { Key = CollectionsKey, Value = value }); else row.Value = value;
        Audit.Record(db, actor, "CollectionsPolicy", CollectionsKey, "update", before is null ? null : new { policy = JsonSerializer.Deserialize<CollectionsPolicy>(before, Json) }, new { policy }, now);
        await db.SaveChangesAsync();
        return [];
    }
}
