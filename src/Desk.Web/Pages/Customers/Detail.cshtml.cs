using System.Security.Cryptography;
using Credit.V1;
using Desk.Domain;
using Desk.Web.Api;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages.Customers;

public sealed record TimelineItem(DateTimeOffset At, string Source, string Text);

[Authorize(Policy = nameof(Permission.CustomersRead))]
public sealed class DetailModel(DeskDb db, CustomerService customers, EngineGateway engine, TimeProvider clock) : PageModel
{
    public Customer? Customer { get; private set; }
    public List<(EngineAccount Account, Account? Live, string? Error)> Accounts { get; } = [];
    public List<RelatedParty> Parties { get; private set; } = [];
    public List<Attachment> Files { get; private set; } = [];
    public List<CustomerScore> Scores { get; private set; } = [];
    public List<CreditApplication> Applications { get; private set; } = [];
    public List<TimelineItem> LimitHistory { get; } = [];
    public List<TimelineItem> Timeline { get; } = [];
    public string? Message { get; private set; }

    private Task<Customer?> FindAsync(long id) =>
        customers.Visible(User).Include(c => c.Accounts).Include(c => c.Tags).ThenInclude(t => t.Tag).FirstOrDefaultAsync(c => c.Id == id);

    public async Task<IActionResult> OnGetAsync(long id)
    {
        Customer = await FindAsync(id);
        if (Customer is null) return NotFound();
        await LoadAsync();
        return Page();
    }

    private async Task LoadAsync()
    {
        var c = Customer!;
        Parties = await db.RelatedParties.AsNoTracking().Where(p => p.CustomerId == c.Id).ToListAsync();
        Files = await db.Attachments.AsNoTracking().Where(a => a.CustomerId == c.Id)
            .Select(a => new Attachment { Id = a.Id, FileName = a.FileName, Sha256 = a.Sha256, SizeBytes = a.SizeBytes, UploadedBy = a.UploadedBy, UploadedAt = a.UploadedAt }).ToListAsync();
        Scores = await db.Scores.AsNoTracking().Where(s => s.CustomerId == c.Id).OrderByDescending(s => s.At).Take(50).ToListAsync();
        Applications = await db.Applications.AsNoTracking().Where(a => a.CustomerId == c.Id).OrderByDescending(a => a.Id).Take(50).ToListAsync();
        foreach (var a in c.Accounts)
        {
            long minSequence = await DeskApi.MinSequenceAsync(db, a);
            var (live, error) = await engine.GetAccountAsync(a.AccountId, minSequence);
            Accounts.Add((a, live, error));
            foreach (var e in await engine.RecentEventsAsync(a.AccountId, 100))
            {
                var at = DateTimeOffset.FromUnixTimeMilliseconds(e.TimestampUnixMs);
                string text = $"{a.AccountId}: {e.Type} {Money.Format(e.Amount, a.Currency)}" + (e.Type == EventType.Declined ? $" ({e.Status})" : "") + $" · seq {e.Sequence}";
                Timeline.Add(new TimelineItem(at, "engine", text));
                if (e.Type is EventType.AccountOpened or EventType.LimitChanged or EventType.TemporaryLimitSet)
                    LimitHistory.Add(new TimelineItem(at, "engine", $"{e.Type}: {Money.Format(e.Amount, a.Currency)} ({e.RequestId})"));
            }
        }
        var appIds = Applications.Select(a => a.Id.ToString()).ToList();
        string customerId = c.Id.ToString();
        var audit = await db.Audit.AsNoTracking()
            .Where(x => (x.EntityType == "Customer" && x.EntityId == customerId) || (x.EntityType == "Application" && appIds.Contains(x.EntityId)))
            .OrderByDescending(x => x.Id).Take(100).ToListAsync();
        bool reports = User.Can(Permission.CreditReportsRead);
        foreach (var x in audit)
        {
            if (!reports && x.Action == "score") continue; // scores are for finance, risk and manager
            Timeline.Add(new TimelineItem(x.At, "desk", $"{x.Actor}: {x.EntityType} {x.EntityId} {x.Action} {x.After}"));
        }
        Timeline.Sort((p, q) => q.At.CompareTo(p.At));
        LimitHistory.Sort((p, q) => q.At.CompareTo(p.At));
    }

    public async Task<IActionResult> OnPostTagAsync(long id, string name, string color)
    {
        if (!User.Can(Permission.CustomersWrite)) return Forbid();
        Customer = await FindAsync(id);
        if (Customer is null) return NotFound();
        name = (name ?? "").Trim();
        if (name.Length is 0 or > 40) Message = "tag: 1-40 characters";
        else
        {
            var tag = await db.Tags.FirstOrDefaultAsync(t => t.Name == name);
            if (tag is null) { tag = new Tag { Name = name, Color = color is { Length: 7 } && color[0] == '#' ? color : "#888888" }; db.Tags.Add(tag); await db.SaveChangesAsync(); }
            if (!Customer.Tags.Any(t => t.TagId == tag.Id))
            {
                db.CustomerTags.Add(new CustomerTag { CustomerId = Customer.Id, TagId = tag.Id });
                Audit.Record(db, User.AuditName(), "Customer", Customer.Id, "tag", null, new { tag = name }, clock.GetUtcNow());
                await db.SaveChangesAsync();
            }
        }
        return Redirect($"/customers/{id}");
    }

    public async Task<IActionResult> OnPostPartyAsync(long id, PartyKind kind, string name, string? uscc)
    {
        if (!User.Can(Permission.CustomersWrite)) return Forbid();
        Customer = await FindAsync(id);
        if (Customer is null) return NotFound();
        if (string.IsNullOrWhiteSpace(name)) { Message = "name: is required"; await LoadAsync(); return Page(); }
        if (!string.IsNullOrWhiteSpace(uscc) && Uscc.Validate(Uscc.Normalize(uscc)) is { } error) { Message = "uscc: " + error; await LoadAsync(); return Page(); }
        var party = new RelatedParty { CustomerId = id, Kind = kind, Name = name.Trim(), Uscc = string.IsNullOrWhiteSpace(uscc) ? null : Uscc.Normalize(uscc) };
        db.RelatedParties.Add(party);
        Audit.Record(db, User.AuditName(), "Customer", id, "related-party", null, new { party.Kind, party.Name, party.Uscc }, clock.GetUtcNow());
        await db.SaveChangesAsync();
        return Redirect($"/customers/{id}");
    }

    public async Task<IActionResult> OnPostUploadAsync(long id, IFormFile file)
    {
        if (!User.Can(Permission.CustomersWrite)) return Forbid();
        Customer = await FindAsync(id);
        if (Customer is null) return NotFound();
        using var memory = new MemoryStream();
        await file.CopyToAsync(memory);
        byte[] content = memory.ToArray();
        var attachment = new Attachment
        {
            CustomerId = id, FileName = Path.GetFileName(file.FileName), ContentType = file.ContentType ?? "application/octet-stream",
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), SizeBytes = content.Length, Content = content, UploadedBy = User.AuditName(), UploadedAt = clock.GetUtcNow(),
        };
        db.Attachments.Add(attachment);
        Audit.Record(db, User.AuditName(), "Customer", id, "attach", null, new { attachment.FileName, attachment.Sha256, attachment.SizeBytes }, attachment.UploadedAt);
        await db.SaveChangesAsync();
        return Redirect($"/customers/{id}");
    }

    public async Task<IActionResult> OnGetDownloadAsync(long id, long fileId)
    {
        if (await FindAsync(id) is null) return NotFound();
        var file = await db.Attachments.AsNoTracking().FirstOrDefaultAsync(a => a.Id == fileId && a.CustomerId == id);
        if (file is null) return NotFound();
        // The stored hash is checked on the way out: a damaged file is refused rather than served.
        if (Convert.ToHexStringLower(SHA256.HashData(file.Content)) != file.Sha256) return new ContentResult { StatusCode = 500, Content = $"attachment {fileId} does not match its SHA-256" };
        return File(file.Content, file.ContentType, file.FileName);
    }
}
