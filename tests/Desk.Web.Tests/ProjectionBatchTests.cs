using Credit.V1;
using Desk.Domain;
using Desk.Web.Services;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Desk.Web.Tests;

/// <summary>
/// The follower applies the engine's events a batch at a time, and a desk that lags (a busy machine, a restart) gets
/// long batches. What it projects must not depend on where the batches were cut: here the same events go through the
/// follower's own apply in two cuts, with the desk's own following switched off so that only these batches count.
/// </summary>
public class ProjectionBatchTests
{
    [Fact]
    public async Task A_due_added_in_the_batch_that_passes_an_older_due_date_counts_in_the_past_due_amount()
    {
        await using var world = await LifecycleWorld.StartAsync("--Desk:FollowEngine=false");
        var (customer, account) = await world.CustomerAsync("戊 Epsilon Foods", 100_000_00, 10, "s1", "华东", "食品");
        var follower = new EngineFollower(world.Desk.Services.GetRequiredService<IServiceScopeFactory>(), world.Gateway, TimeProvider.System, NullLogger<EngineFollower>.Instance);
        long day0 = (long)DueRules.DayOf(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) * DueRules.DayMs;
        long sequence = 1_000_000;
        LedgerEvent Event(EventType type, int day, long amount, long posted, LifecycleDetail? detail = null) => new()
        {
            Sequence = ++sequence, TimestampUnixMs = day0 + day * DueRules.DayMs + 1_000, AccountId = account, Type = type, Status = Status.Ok,
            Amount = amount, Posted = posted, Lifecycle = detail,
        };

        // First batch: the account on net-10 terms and a purchase of 6,000.00 (due on day 10).
        await follower.ApplyAsync([
            Event(EventType.AccountOpened, 0, 100_000_00, 0, new LifecycleDetail { Billing = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = 10 } }),
            Event(EventType.Captured, 0, 6_000_00, 6_000_00),
        ], CancellationToken.None);
        // Second batch: a purchase of 4,000.00 on day 5 (due on day 15), then on day 40 a payment of 2,000.00 against the
        // oldest due. Both dues are past due on day 40: 4,000.00 + 4,000.00.
        await follower.ApplyAsync([
            Event(EventType.Captured, 5, 4_000_00, 10_000_00),
            Event(EventType.Repaid, 40, 2_000_00, 8_000_00, new LifecycleDetail { DuesPaid = 2_000_00 }),
        ], CancellationToken.None);

        var projected = await world.DbAsync(db => db.EngineAccounts.AsNoTracking().SingleAsync(a => a.AccountId == account));
        Assert.Equal(8_000_00, projected.ReceivablesMinor);
        Assert.Equal(8_000_00, projected.PastDueMinor);
        var totals = await world.DbAsync(db => db.Customers.AsNoTracking().SingleAsync(c => c.Id == customer.Id));
        Assert.Equal(8_000_00, totals.PastDueMinor);
        Assert.Equal(30, totals.DpdDays);
        var dues = await world.DbAsync(db => db.Dues.AsNoTracking().Where(d => d.AccountId == account).OrderBy(d => d.DueDay).ToListAsync());
        Assert.Equal([(DueRules.DayOf(day0) + 10, 4_000_00L, true), (DueRules.DayOf(day0) + 15, 4_000_00L, true)],
            dues.Select(d => (d.DueDay, d.AmountMinor - d.PaidMinor, d.PastDueCounted)).ToList());
    }
}
