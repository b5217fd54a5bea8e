using System.Text.Json;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Desk.Web.Pages;

public sealed class PoliciesModel(DeskDb db, TimeProvider clock) : PageModel
{
    public int RoutesVersion { get; private set; }
    public string RoutesJson { get; private set; } = "";
    public int ScoringVersion { get; private set; }
    public string ScoringJson { get; private set; } = "";
    public string CollectionsJson { get; private set; } = "";
    public IReadOnlyList<string> Problems { get; private set; } = [];
    public bool Saved { get; private set; }

    public Task OnGetAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        var (version, policy) = await Policies.RoutesAsync(db);
        (RoutesVersion, RoutesJson) = (version, JsonSerializer.Serialize(policy, Policies.Json));
        var model = await Policies.ScoringAsync(db);
        (ScoringVersion, ScoringJson) = (model.Version, JsonSerializer.Serialize(model, Policies.Json));
        CollectionsJson = JsonSerializer.Serialize(await Policies.CollectionsAsync(db), Policies.Json);
    }

    public async Task OnPostCollectionsAsync(string json)
    {
        Problems = await Policies.SaveCollectionsAsync(db, json ?? "", User.AuditName(), clock.GetUtcNow());
        Saved = Problems.Count == 0;
        await LoadAsync();
    }

    public async Task OnPostRoutesAsync(string json)
    {
        Problems = await Policies.SaveRoutesAsync(db, json ?? "", User.AuditName(), clock.GetUtcNow());
        Saved = Problems.Count == 0;
        await LoadAsync();
    }

    public async Task OnPostScoringAsync(string json)
    {
        Problems = await Policies.SaveScoringAsync(db, json ?? "", User.AuditName(), clock.GetUtcNow());
        Saved = Problems.Count == 0;
        await LoadAsync();
    }
}
