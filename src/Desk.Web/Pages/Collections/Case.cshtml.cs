using System.Globalization;
using Credit.V1;
using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages.Collections;

/// <summary>
/// One account's collection case: the projected dues, payments, stage and freeze state (with the projection's
/// sequence and its lag behind the engine's read model), the engine's live freeze flags, the history and the tasks.
/// </summary>
public sealed class CaseModel(DeskDb db, CustomerService customers, CollectionsService collections, EngineGateway engine, TimeProvider clock) : PageModel
{
    public Customer? Customer { get; private set; }
    public EngineAccount? Account { get; private set; }
    public CollectionCase? Case { get; private set; }
    public List<AccountDue> Dues { get; private set; } = [];
    public List<AccountPayment> Payments { get; private set; } = [];
    public List<CollectionTask> Tasks { get; private set; } = [];
    public ProjectionState State { get; private set; } = new(0, 0, 0);
    public int Today { get; private set; }
    /// <summary>The engine's account and its read model's sequence, read live; null with <see cref="EngineError"/> when unreachable.</summary>
    public Credit.V1.Account? Live { get; private set; }
    public long EngineSequence { get; private set; }
    public string? EngineError { get; private set; }
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(string accountId) => await LoadAsync(accountId) ? Page() : NotFound();

    private async Task<bool> LoadAsync(string accountId)
    {
        var ct = HttpContext.RequestAborted;
        Account = await db.EngineAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.AccountId == accountId, ct);
        if (Account is null) return false;
        Customer = await customers.Visible(User).AsNoTracking().FirstOrDefaultAsync(c => c.Id == Account.CustomerId, ct);
        if (Customer is null) return false;
        State = await ProjectionState.ReadAsync(db, ct);
        Today = State.EngineToday(clock);
        Dues = await db.Dues.AsNoTracking().Where(d => d.AccountId == accountId).OrderBy(d => d.DueDay).ToListAsync(ct);
        Payments = await db.Payments.AsNoTracking().Where(p => p.AccountId == accountId).OrderByDescending(p => p.Sequence).Take(50).ToListAsync(ct);
        Case = await db.Cases.AsNoTracking().Include(c => c.Actions).FirstOrDefaultAsync(c => c.AccountId == accountId, ct);
        Tasks = Case is null ? [] : await db.CollectionTasks.AsNoTracking().Where(t => t.CaseId == Case.Id).OrderByDescending(t => t.Id).ToListAsync(ct);
        try
        {
            var reply = await engine.Client.GetAccountAsync(new GetAccountRequest { AccountId = accountId }, ct: ct);
            (Live, EngineSequence) = (reply.Account, reply.Sequence);
        }
        catch (Grpc.Core.RpcException e)
        {
            EngineError = $"engine unreachable: {e.Status.StatusCode} {e.Status.Detail}";
        }
        return true;
    }

    public async Task<IActionResult> OnPostActionAsync(string accountId, CollectionActionKind kind, string? text, string? amount, string? date)
    {
        var account = await db.EngineAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.AccountId == accountId);
        if (account is null) return NotFound();
        long? amountMinor = null;
        DateOnly? promised = null;
        if (!string.IsNullOrWhiteSpace(amount))
        {
            if (!Money.TryParseMajor(amount, out long a, out string? amountError)) Error = "promised_amount: " + amountError;
            else amountMinor = a;
        }
        if (Error is null && !string.IsNullOrWhiteSpace(date))
        {
            if (!DateOnly.TryParseExact(date.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) Error = "promised_date: yyyy-mm-dd";
            else promised = d;
        }
        Error ??= await collections.AddActionAsync(User, account.CustomerId, accountId, new CollectionAction(kind, User.AuditName(), clock.GetUtcNow(), text ?? "", amountMinor, promised));
        if (Error is null) return Redirect(Request.Path);
        await LoadAsync(accountId);
        return Page();
    }

    public async Task<IActionResult> OnPostAssignAsync(string accountId, string? assignee)
    {
        var account = await db.EngineAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.AccountId == accountId);
        if (account is null) return NotFound();
        Error = await collections.AssignAsync(User, account.CustomerId, accountId, assignee);
        if (Error is null) return Redirect(Request.Path);
        await LoadAsync(accountId);
        return Page();
    }
}
