using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

/// <summary>Where the collections worklist comes from: the engine projection (<see cref="LifecycleProjection"/>).</summary>
public interface IDelinquencyFeed
{
    /// <summary>Delinquent accounts the user may see, largest past-due first, optionally of one stage or bucket, as of engine day <paramref name="today"/>.</summary>
    Task<IReadOnlyList<DelinquentAccount>> ListAsync(IQueryable<Customer> visible, string? stage, string? bucket, int today, int skip, int take, CancellationToken ct = default);
}

/// <summary>
/// The worklist from the projected accounts: every account with an amount past due (or in a delinquency stage), by
/// past-due amount (index on EngineAccounts.PastDueMinor), the bucket of its oldest past-due due (its DPD), and the
/// past-due amount per bucket from its dues.
/// </summary>
public sealed class ProjectedDelinquencyFeed(DeskDb db) : IDelinquencyFeed
{
    public async Task<IReadOnlyList<DelinquentAccount>> ListAsync(IQueryable<Customer> visible, string? stage, string? bucket, int today, int skip, int take, CancellationToken ct = default)
    {
        var accounts = db.EngineAccounts.AsNoTracking().Where(a => a.PastDueMinor > 0 || a.DelinquencyStage != DelinquencyStages.Current);
        if (stage is not null) accounts = accounts.Where(a => a.DelinquencyStage == stage);
        if (bucket is not null)
        {
            var (from, to) = DueRules.BucketDays(bucket, today);
            accounts = accounts.Where(a => a.OldestDueDay >= from && a.OldestDueDay <= to);
        }
        var rows = await accounts.Join(visible, a => a.CustomerId, c => c.Id, (a, c) => new { a, c.LegalName, c.OwnerUserName, c.Region })
            .OrderByDescending(x => x.a.PastDueMinor).ThenBy(x => x.a.OldestDueDay).ThenBy(x => x.a.AccountId)
            .Skip(skip).Take(take).ToListAsync(ct);
        var ids = rows.Select(r => r.a.AccountId).ToList();
        var dues = (await db.Dues.AsNoTracking().Where(d => ids.Contains(d.AccountId) && d.DueDay < today).ToListAsync(ct))
            .GroupBy(d => d.AccountId).ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, long>)g.GroupBy(d => DueRules.Bucket(d.DueDay, today)).ToDictionary(b => b.Key, b => b.Sum(d => d.OpenMinor)));
        return rows.Select(r => new DelinquentAccount(r.a.CustomerId, r.LegalName, r.a.AccountId, r.a.Currency, r.a.DelinquencyStage, DueRules.Dpd(r.a.OldestDueDay, today),
            r.a.PastDueMinor, dues.GetValueOrDefault(r.a.AccountId) ?? new Dictionary<string, long>(), r.OwnerUserName, r.Region)).ToList();
    }
}

/// <summary>Open dues on given dates, for the reminder rules, from the projected dues.</summary>
public sealed class ProjectedDueFeed(DeskDb db) : IDueFeed
{
    public async Task<IReadOnlyList<(long CustomerId, DueItem Item)>> OpenDuesAsync(IReadOnlyCollection<DateOnly> dueDates, CancellationToken ct = default)
    {
        var days = dueDates.Select(DueRules.DayOf).Distinct().ToList();
        var rows = await db.Dues.AsNoTracking().Where(d => days.Contains(d.DueDay))
            .Join(db.Customers, d => d.CustomerId, c => c.Id, (d, c) => new { d.CustomerId, d.AccountId, c.LegalName, c.Currency, d.DueDay, d.AmountMinor, d.PaidMinor })
            .ToListAsync(ct);
        return rows.Select(r => (r.CustomerId, new DueItem(r.AccountId, r.LegalName, DueRules.DateOf(r.DueDay), r.AmountMinor - r.PaidMinor, r.Currency, r.AmountMinor == r.PaidMinor))).ToList();
    }
}
