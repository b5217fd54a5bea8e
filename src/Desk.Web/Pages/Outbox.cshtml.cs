using Desk.Domain;
using Desk.Web.Data;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Pages;

public sealed class OutboxModel(DeskDb db) : PageModel
{
    public const int Rows = 200;
    public List<OutboxMessage> Messages { get; private set; } = [];

    public async Task OnGetAsync() =>
        Messages = await db.Outbox.AsNoTracking().Include(m => m.AttemptLog).OrderByDescending(m => m.Id).Take(Rows).ToListAsync();
}
