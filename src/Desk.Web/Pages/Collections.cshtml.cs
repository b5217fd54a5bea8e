using Desk.Domain;
using Desk.Web.Services;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Desk.Web.Pages;

/// <summary>The collections worklist, through <see cref="IDelinquencyFeed"/> over the customers the user may see.</summary>
public sealed class CollectionsModel(IDelinquencyFeed feed, CustomerService customers) : PageModel
{
    public const int PageSize = 100;
    [BindProperty(SupportsGet = true)] public string? Stage { get; set; }
    [BindProperty(SupportsGet = true)] public string? Bucket { get; set; }
    public IReadOnlyList<DelinquentAccount> Rows { get; private set; } = [];
    public string? Error { get; private set; }

    public async Task OnGetAsync()
    {
        Stage = string.IsNullOrWhiteSpace(Stage) ? null : Stage.Trim().ToUpperInvariant();
        Bucket = string.IsNullOrWhiteSpace(Bucket) ? null : Bucket.Trim();
        if (Stage is not null && !DelinquencyStages.All.Contains(Stage)) { Error = $"stage: one of {string.Join(", ", DelinquencyStages.All)}"; return; }
        if (Bucket is not null && !CollectionRules.Buckets.Contains(Bucket)) { Error = $"bucket: one of {string.Join(", ", CollectionRules.Buckets)}"; return; }
        Rows = await feed.ListAsync(customers.Visible(User), Stage, Bucket, 0, PageSize, HttpContext.RequestAborted);
    }
}
