using Desk.Domain;
using Desk.Web.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages;

public sealed class AuditModel(DeskDb db) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? EntityType { get; set; }
    [BindProperty(SupportsGet = true)] public string? EntityId { get; set; }
    public List<AuditEntry> Entries { get; private set; } = [];

    public async Task OnGetAsync()
    {
        var q = db.Audit.AsNoTracking();
        if (!string.IsNullOrEmpty(EntityType)) q = q.Where(a => a.EntityType == EntityType);
        if (!string.IsNullOrEmpty(EntityId)) q = q.Where(a => a.EntityId == EntityId);
        Entries = await q.OrderByDescending(a => a.Id).Take(200).ToListAsync();
    }
}
