using System.Security.Cryptography;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

/// <summary>
/// The desk's own id, the prefix of every request id it sends to the engine (see <see cref="RequestIds"/>). Generated
/// once, at first start, and stored in the desk's database (setting <see cref="Key"/>), so it survives restarts and
/// moves with the database; a second desk with its own database gets its own id even when both share one engine.
/// </summary>
public sealed class DeskIdentity
{
    public const string Key = "desk.id";
    private string? _id;

    /// <summary>Creates the id if this database has none (first start). Called by <see cref="Bootstrap"/> after migrating.</summary>
    public static async Task<string> EnsureAsync(DeskDb db)
    {
        var row = await db.Settings.FindAsync([Key]);
        if (row is not null) return RequestIds.ValidateDeskId(row.Value);
        string id = RequestIds.NewDeskId(RandomNumberGenerator.GetBytes(RequestIds.DeskIdLength / 2));
        db.Settings.Add(new DeskSetting { Key = Key, Value = id });
        await db.SaveChangesAsync();
        return id;
    }

    /// <summary>This desk's id (read once from the database, then cached: it never changes).</summary>
    public async Task<string> GetAsync(DeskDb db, CancellationToken ct = default)
    {
        if (_id is not null) return _id;
        var row = await db.Settings.AsNoTracking().FirstOrDefaultAsync(s => s.Key == Key, ct)
            ?? throw new InvalidOperationException($"setting '{Key}' is missing: the desk's bootstrap has not run on this database");
        return _id = RequestIds.ValidateDeskId(row.Value);
    }
}
