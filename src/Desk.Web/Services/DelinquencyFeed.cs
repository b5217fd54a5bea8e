using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

/// <summary>
/// Where the collections worklist comes from. The engine projection (following DELINQUENCY_STAGE_CHANGED and the
/// dues of docs/LIFECYCLE.md) will implement it; until those events exist <see cref="ProjectedDelinquencyFeed"/> serves it
/// from the desk's own projection.
/// </summary>
public interface IDelinquencyFeed
{
    /// <summary>Delinquent accounts the user may see, largest past-due first, optionally of one stage or bucket.</summary>
    Task<IReadOnlyList<DelinquentAccount>> ListAsync(IQueryable<Customer> visible, string? stage, string? bucket, int skip, int take, CancellationToken ct = default);
}

/// <summary>
/// The interim feed: customers whose projected DPD is above 0, their posted balance standing in for the past-due amount
/// (the projection does not know dues yet) and the stage derived from the default thresholds (WATCH at 15, frozen at 30,
/// charged off at 180 days).
/// </summary>
public sealed class ProjectedDelinquencyFeed : IDelinquencyFeed
{
    public async Task<IReadOnlyList<DelinquentAccount>> ListAsync(IQueryable<Customer> visible, string? stage, string? bucket, int skip, int take, CancellationToken ct = default)
    {
        var rows = await visible.AsNoTracking().Where(c => c.DpdDays > 0 && c.PostedMinor > 0)
            .Select(c => new { c.Id, c.LegalName, c.Uscc, c.Currency, c.DpdDays, c.PostedMinor, c.OwnerUserName, c.Region })
            .ToListAsync(ct);
        var accounts = rows.Select(c => new DelinquentAccount(c.Id, c.LegalName, RequestIds.MainAccountId(c.Uscc), c.Currency, StageOf(c.DpdDays), c.DpdDays,
            c.PostedMinor, new Dictionary<string, long> { [CollectionRules.Bucket(c.DpdDays)] = c.PostedMinor }, c.OwnerUserName, c.Region));
        return CollectionRules.Worklist(accounts, stage, bucket).Skip(skip).Take(take).ToList();
    }

    public static string StageOf(int dpd) => dpd >= 180 ? DelinquencyStages.ChargedOff : dpd >= 30 ? DelinquencyStages.FrozenDelinquent : dpd >= 15 ? DelinquencyStages.Watch : DelinquencyStages.Current;
}
