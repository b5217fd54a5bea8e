using System.Globalization;
using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages;

/// <summary>The collections worklist, through <see cref="IDelinquencyFeed"/> over the customers the user may see, with the cases' assignment and actions.</summary>
public sealed class CollectionsModel(IDelinquencyFeed feed, CustomerService customers, CollectionsService collections, DeskDb db, TimeProvider clock) : PageModel
{
    public const int PageSize = 100;
    [BindProperty(SupportsGet = true)] public string? Stage { get; set; }
    [BindProperty(SupportsGet = true)] public string? Bucket { get; set; }
    public IReadOnlyList<DelinquentAccount> Rows { get; private set; } = [];
    public Dictionary<string, CollectionCase> Cases { get; private set; } = [];
    public string? Error { get; private set; }
    public ProjectionState State { get; private set; } = new(0, 0, 0);
    public int Today { get; private set; }
    /// <summary>Open senior-collector tasks of the signed-in user and of the queue.</summary>
    public IReadOnlyList<CollectionTask> Tasks { get; private set; } = [];

    public Task OnGetAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        Stage = string.IsNullOrWhiteSpace(Stage) ? null : Stage.Trim().ToUpperInvariant();
        Bucket = string.IsNullOrWhiteSpace(Bucket) ? null : Bucket.Trim();
        if (Stage is not null && !DelinquencyStages.All.Contains(Stage)) { Error = $"stage: one of {string.Join(", ", DelinquencyStages.All)}"; return; }
        if (Bucket is not null && !CollectionRules.Buckets.Contains(Bucket)) { Error = $"bucket: one of {string.Join(", ", CollectionRules.Buckets)}"; return; }
        State = await ProjectionState.ReadAsync(db, HttpContext.RequestAborted);
        Today = State.EngineToday(clock);
        Rows = await feed.ListAsync(customers.Visible(User), Stage, Bucket, Today, 0, PageSize, HttpContext.RequestAborted);
        string me = User.AuditName();
        Tasks = await db.CollectionTasks.AsNoTracking().Where(t => t.DoneAt == null && (t.AssignedTo == me || t.AssignedTo == null)).OrderBy(t => t.Id).Take(50).ToListAsync(HttpContext.RequestAborted);
        var ids = Rows.Select(r => r.AccountId).ToList();
        Cases = await db.Cases.AsNoTracking().Include(c => c.Actions).Where(c => ids.Contains(c.AccountId)).ToDictionaryAsync(c => c.AccountId);
    }

    public async Task<IActionResult> OnPostAssignAsync(long customerId, string accountId, string? assignee)
    {
        Error = await collections.AssignAsync(User, customerId, accountId ?? "", assignee);
        if (Error is null) return Redirect(Request.Path + Request.QueryString);
        await LoadAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostActionAsync(long customerId, string accountId, CollectionActionKind kind, string? text, string? amount, string? date)
    {
        long? amountMinor = null;
        DateOnly? promised = null;
        if (!string.IsNullOrWhiteSpace(amount))
        {
            if (!Money.TryParseMajor(amount, out long a, out string? amountError)) { Error = "promised_amount: " + amountError; await LoadAsync(); return Page(); }
            amountMinor = a;
        }
        if (!string.IsNullOrWhiteSpace(date))
        {
            if (!DateOnly.TryParseExact(date.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) { Error = "promised_date: yyyy-mm-dd"; await LoadAsync(); return Page(); }
            promised = d;
        }
        Error = await collections.AddActionAsync(User, customerId, accountId ?? "", new CollectionAction(kind, User.AuditName(), DateTimeOffset.UtcNow, text ?? "", amountMinor, promised));
        if (Error is null) return Redirect(Request.Path + Request.QueryString);
        await LoadAsync();
        return Page();
    }
}
