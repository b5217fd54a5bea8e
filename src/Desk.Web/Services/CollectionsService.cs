using System.Security.Claims;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

/// <summary>Collection cases: assignment and actions (notes, calls, visits, promises to pay, escalation, legal), audited.</summary>
public sealed class CollectionsService(DeskDb db, CustomerService customers, TimeProvider clock)
{
    /// <summary>The case of the account, opened on first use; null with an error when the customer is not visible or unknown.</summary>
    private async Task<(CollectionCase? Case, string? Error)> CaseAsync(ClaimsPrincipal user, long customerId, string accountId)
    {
        if (!user.Can(Permission.CollectionsWork)) return (null, "forbidden: your roles may not work collection cases");
        var customer = await customers.Visible(user).Include(c => c.Accounts).FirstOrDefaultAsync(c => c.Id == customerId);
        if (customer is null) return (null, "customer_id: no such customer (or not yours)");
        if (customer.Accounts.All(a => a.AccountId != accountId) && RequestIds.MainAccountId(customer.Uscc) != accountId) return (null, $"account_id: '{accountId}' is not an account of this customer");
        var c = await db.Cases.Include(x => x.Actions).FirstOrDefaultAsync(x => x.AccountId == accountId);
        if (c is not null) return (c, null);
        var now = clock.GetUtcNow();
        c = new CollectionCase { CustomerId = customerId, AccountId = accountId, Status = CaseStatus.Open, OpenedAt = now, UpdatedAt = now };
        db.Cases.Add(c);
        return (c, null);
    }

    public async Task<string?> AssignAsync(ClaimsPrincipal user, long customerId, string accountId, string? assignee)
    {
        var (c, error) = await CaseAsync(user, customerId, accountId);
        if (c is null) return error;
        string? name = string.IsNullOrWhiteSpace(assignee) ? null : assignee.Trim();
        if (name is not null)
        {
            var target = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.UserName == name && u.Active);
            if (target is null || !Permissions.Allows(target.RoleList, Permission.CollectionsWork)) return $"assignee: '{name}' is not an active user with the collections or manager role";
        }
        if (c.AssignedTo == name) return null;
        var now = clock.GetUtcNow();
        Audit.Record(db, user.AuditName(), "CollectionCase", accountId, "assign", new { c.AssignedTo }, new { AssignedTo = name }, now);
        (c.AssignedTo, c.UpdatedAt) = (name, now);
        await db.SaveChangesAsync();
        return null;
    }

    public async Task<string?> AddActionAsync(ClaimsPrincipal user, long customerId, string accountId, CollectionAction action)
    {
        var now = clock.GetUtcNow();
        // Promises are judged against the engine's days and the payments the projection records after this position.
        var state = await ProjectionState.ReadAsync(db);
        if (CollectionRules.Validate(action, DueRules.DateOf(state.EngineToday(clock))) is { } problem) return problem;
        var (c, error) = await CaseAsync(user, customerId, accountId);
        if (c is null) return error;
        var record = new CaseActionRecord { Kind = action.Kind, By = user.AuditName(), At = now, Text = action.Text.Trim(), PromisedAmountMinor = action.PromisedAmountMinor, PromisedDate = action.PromisedDate, EngineSequence = state.Position };
        c.Actions.Add(record);
        bool raise = action.Kind is CollectionActionKind.Escalation or CollectionActionKind.Legal;
        Audit.Record(db, user.AuditName(), "CollectionCase", accountId, action.Kind.ToString().ToLowerInvariant(),
            raise && !c.Raised ? new { Raised = false } : null,
            new { record.Text, record.PromisedAmountMinor, record.PromisedDate, Raised = raise || c.Raised }, now);
        c.Raised |= raise;
        c.UpdatedAt = now;
        await db.SaveChangesAsync();
        return null;
    }
}
