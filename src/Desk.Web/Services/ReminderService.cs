using System.Globalization;
using System.Text.Json;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Desk.Web.Services;

/// <summary>Open dues per customer on the given due dates, for reminders (<see cref="ProjectedDueFeed"/>: the engine projection).</summary>
public interface IDueFeed
{
    Task<IReadOnlyList<(long CustomerId, DueItem Item)>> OpenDuesAsync(IReadOnlyCollection<DateOnly> dueDates, CancellationToken ct = default);
}

/// <summary>
/// Turns the reminder rules into outbox messages for one engine day: each (account, due date, rule) is one trigger key,
/// so running the day again — the next job round, a restart, a crash before the commit — adds nothing.
/// E-mails go to the customer's contact e-mail, webhooks to <c>Desk:Outbox:CollectionsWebhookUrl</c>; the customer's
/// language is Chinese (the templates' zh-CN text).
/// </summary>
public sealed class ReminderService(DeskDb db, OutboxService outbox, IOptions<DeskOptions> options, ILogger<ReminderService> log)
{
    public sealed record Result(int Added, int AlreadyThere, int Skipped);

    public async Task<Result> EnqueueAsync(IEnumerable<(long CustomerId, DueItem Item)> dues, DateOnly today, CancellationToken ct = default)
    {
        var policy = await Policies.CollectionsAsync(db, ct);
        var list = dues.ToList();
        var ids = list.Select(d => d.CustomerId).Distinct().ToList();
        var customers = await db.Customers.AsNoTracking().Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var byItem = list.GroupBy(d => d.Item).ToDictionary(g => g.Key, g => g.First().CustomerId);
        int added = 0, there = 0, skipped = 0;
        foreach (var trigger in ReminderRules.Due(policy.Rules, list.Select(d => d.Item), today))
        {
            if (!customers.TryGetValue(byItem[trigger.Item], out var customer)) { skipped++; continue; }
            var template = MessageTemplates.Find(policy.Templates, trigger.Rule.TemplateKey, "zh-CN");
            if (template is null) { skipped++; log.LogWarning("reminder {Trigger}: no template '{Key}'", trigger.TriggerKey, trigger.Rule.TemplateKey); continue; }
            var values = new Dictionary<string, string>
            {
                ["customer"] = customer.LegalName,
                ["amount"] = Money.Format(trigger.Item.AmountMinor, trigger.Item.Currency),
                ["dpd"] = trigger.Dpd.ToString(CultureInfo.InvariantCulture),
                ["due_date"] = trigger.Item.DueDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["account"] = trigger.Item.AccountId,
            };
            var (subject, e1) = MessageTemplates.Render(template.Subject, values);
            var (body, e2) = MessageTemplates.Render(template.Body, values);
            if ((e1 ?? e2) is { } error) { skipped++; log.LogWarning("reminder {Trigger}: {Error}", trigger.TriggerKey, error); continue; }
            string? target = trigger.Rule.Channel == OutboxChannel.Email ? customer.ContactEmail : options.Value.Outbox.CollectionsWebhookUrl;
            if (string.IsNullOrWhiteSpace(target)) { skipped++; continue; }
            string payload = trigger.Rule.Channel == OutboxChannel.Webhook
                ? JsonSerializer.Serialize(new { @event = "reminder", rule = trigger.Rule.Name, customer = customer.LegalName, account = trigger.Item.AccountId, amount = values["amount"], dpd = trigger.Dpd, dueDate = values["due_date"], text = body }, OutboxJson)
                : body!;
            var (ok, problem) = await outbox.Enqueue(new OutboxMessage { TriggerKey = trigger.TriggerKey, Channel = trigger.Rule.Channel, Target = target, Subject = subject!, Body = payload }, ct);
            if (ok) added++; else if (problem is null) there++; else { skipped++; log.LogWarning("reminder {Trigger}: {Error}", trigger.TriggerKey, problem); }
        }
        await db.SaveChangesAsync(ct);
        return new Result(added, there, skipped);
    }

    private static readonly JsonSerializerOptions OutboxJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
