using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Desk.Domain;

// The outbox (docs/DESK.md "Collections"): messages to customers and other systems are written in the same transaction as
// what triggered them, keyed by the trigger, and delivered by a job that retries with backoff and logs every attempt.

public enum OutboxChannel { Webhook, Email }

public enum OutboxStatus { Pending, Sent, Failed }

public sealed class OutboxMessage
{
    public long Id { get; set; }
    /// <summary>What caused it, unique (e.g. "reminder:c-…:2026-12-01:before-3"): a second enqueue of the same trigger is a no-op.</summary>
    public string TriggerKey { get; set; } = "";
    public OutboxChannel Channel { get; set; }
    /// <summary>The webhook URL or the e-mail address.</summary>
    public string Target { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Body { get; set; } = "";
    public OutboxStatus Status { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public string? LastError { get; set; }
    public List<OutboxAttempt> AttemptLog { get; set; } = [];
}

public sealed class OutboxAttempt
{
    public long Id { get; set; }
    public long MessageId { get; set; }
    public int Attempt { get; set; }
    public DateTimeOffset At { get; set; }
    public bool Ok { get; set; }
    /// <summary>The receiver's answer ("HTTP 200", "250 OK") or the error.</summary>
    public string Detail { get; set; } = "";
    public int DurationMs { get; set; }
}

public static class OutboxRules
{
    public const int TriggerKeyLengthMax = 200;

    /// <summary>Delay before attempt <paramref name="attempt"/>+1 after a failure: base × 2^(attempt−1), at most max.</summary>
    public static TimeSpan Backoff(int attempt, TimeSpan first, TimeSpan max)
    {
        if (attempt < 1) return TimeSpan.Zero;
        double ms = first.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ms, max.TotalMilliseconds));
    }

    /// <summary>The webhook signature header value: "sha256=" + lower-case hex HMAC-SHA256 of "{timestamp}.{body}" with the secret.</summary>
    public static string Signature(string secret, long timestampUnixSeconds, string body)
    {
        byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestampUnixSeconds.ToString(CultureInfo.InvariantCulture) + "." + body));
        return "sha256=" + Convert.ToHexStringLower(mac);
    }

    /// <summary>Checks a message before it is stored; null when fine, else "field: problem".</summary>
    public static string? Validate(OutboxMessage m)
    {
        if (string.IsNullOrWhiteSpace(m.TriggerKey) || m.TriggerKey.Length > TriggerKeyLengthMax) return $"trigger_key: 1-{TriggerKeyLengthMax} characters";
        switch (m.Channel)
        {
            case OutboxChannel.Webhook:
                if (!Uri.TryCreate(m.Target, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return "target: an http(s) URL is required for a webhook";
                break;
            case OutboxChannel.Email:
                int at = m.Target.IndexOf('@');
                if (at <= 0 || at == m.Target.Length - 1 || m.Target.Contains(' ')) return "target: an e-mail address is required for e-mail";
                break;
        }
        if (m.Body.Length == 0) return "body: is required";
        return null;
    }
}

/// <summary>A message template in one language; variables are written {name}.</summary>
public sealed class MessageTemplate
{
    public string Key { get; set; } = "";
    /// <summary>"zh-CN" or "en".</summary>
    public string Language { get; set; } = "zh-CN";
    public string Subject { get; set; } = "";
    public string Body { get; set; } = "";
}

public static class MessageTemplates
{
    /// <summary>The variables a template may use.</summary>
    public static readonly IReadOnlyList<string> Variables = ["customer", "amount", "dpd", "due_date", "account"];

    /// <summary>Replaces {variable}; "{{" and "}}" are literal braces. An unknown or missing variable is an error naming it.</summary>
    public static (string? Text, string? Error) Render(string template, IReadOnlyDictionary<string, string> values)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < template.Length; i++)
        {
            char ch = template[i];
            if (ch == '{' && i + 1 < template.Length && template[i + 1] == '{') { sb.Append('{'); i++; continue; }
            if (ch == '}' && i + 1 < template.Length && template[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (ch != '{') { sb.Append(ch); continue; }
            int end = template.IndexOf('}', i + 1);
            if (end < 0) return (null, $"template: '{{' at position {i + 1} is not closed");
            string name = template[(i + 1)..end].Trim();
            if (!Variables.Contains(name)) return (null, $"template: unknown variable '{name}' (known: {string.Join(", ", Variables)})");
            if (!values.TryGetValue(name, out string? value)) return (null, $"{name}: no value for the template variable");
            sb.Append(value);
            i = end;
        }
        return (sb.ToString(), null);
    }

    /// <summary>The template of <paramref name="key"/> in <paramref name="language"/>, else in Chinese, else null.</summary>
    public static MessageTemplate? Find(IEnumerable<MessageTemplate> templates, string key, string? language)
    {
        var list = templates.Where(t => t.Key == key).ToList();
        return list.FirstOrDefault(t => t.Language == language) ?? list.FirstOrDefault(t => t.Language == "zh-CN") ?? list.FirstOrDefault();
    }

    public static List<MessageTemplate> Default() =>
    [
        new() { Key = "reminder-before-due", Language = "zh-CN", Subject = "还款提醒：{customer}", Body = "尊敬的{customer}：您的账户 {account} 有 {amount} 将于 {due_date} 到期，请按时还款。" },
        new() { Key = "reminder-before-due", Language = "en", Subject = "Payment reminder: {customer}", Body = "Dear {customer}: {amount} on account {account} falls due on {due_date}. Please pay on time." },
        new() { Key = "reminder-due", Language = "zh-CN", Subject = "今日到期：{customer}", Body = "尊敬的{customer}：您的账户 {account} 有 {amount} 今日（{due_date}）到期。" },
        new() { Key = "reminder-due", Language = "en", Subject = "Due today: {customer}", Body = "Dear {customer}: {amount} on account {account} is due today ({due_date})." },
        new() { Key = "reminder-overdue", Language = "zh-CN", Subject = "逾期通知：{customer}", Body = "尊敬的{customer}：您的账户 {account} 有 {amount} 已逾期 {dpd} 天（到期日 {due_date}），请尽快还款。" },
        new() { Key = "reminder-overdue", Language = "en", Subject = "Overdue: {customer}", Body = "Dear {customer}: {amount} on account {account} is {dpd} days past due (due {due_date}). Please pay as soon as possible." },
    ];
}

public enum ReminderWhen { BeforeDue, OnDue, AfterDue }

/// <summary>A reminder rule as data: remind N days before the due date, on it, or N days after; with a template and a channel.</summary>
public sealed class ReminderRule
{
    public string Name { get; set; } = "";
    public ReminderWhen When { get; set; }
    public int Days { get; set; }
    public string TemplateKey { get; set; } = "";
    public OutboxChannel Channel { get; set; } = OutboxChannel.Email;
}

/// <summary>An amount due on a date, as the collections case model sees it (fed by the engine's statements).</summary>
public sealed record DueItem(string AccountId, string CustomerName, DateOnly DueDate, long AmountMinor, string Currency, bool Paid);

public sealed record ReminderTrigger(string TriggerKey, ReminderRule Rule, DueItem Item, int Dpd);

public static class ReminderRules
{
    public static List<ReminderRule> Default() =>
    [
        new() { Name = "before-3", When = ReminderWhen.BeforeDue, Days = 3, TemplateKey = "reminder-before-due" },
        new() { Name = "on-due", When = ReminderWhen.OnDue, TemplateKey = "reminder-due" },
        new() { Name = "after-3", When = ReminderWhen.AfterDue, Days = 3, TemplateKey = "reminder-overdue" },
    ];

    public static IReadOnlyList<string> Validate(IReadOnlyList<ReminderRule> rules)
    {
        var problems = new List<string>();
        for (int i = 0; i < rules.Count; i++)
        {
            var r = rules[i];
            if (string.IsNullOrWhiteSpace(r.Name)) problems.Add($"rules[{i}].name: is required");
            if (r.When != ReminderWhen.OnDue && r.Days is < 1 or > 365) problems.Add($"rules[{i}].days: 1..365");
            if (string.IsNullOrWhiteSpace(r.TemplateKey)) problems.Add($"rules[{i}].templateKey: is required");
        }
        foreach (var dup in rules.GroupBy(r => r.Name).Where(g => g.Count() > 1)) problems.Add($"rules: name '{dup.Key}' is used twice");
        return problems;
    }

    /// <summary>
    /// The reminders due on <paramref name="today"/> (the engine's UTC day) for unpaid items, each with a trigger key unique per
    /// account, due date and rule, so running this twice on a day (or after a crash) enqueues nothing new.
    /// </summary>
    public static IEnumerable<ReminderTrigger> Due(IReadOnlyList<ReminderRule> rules, IEnumerable<DueItem> items, DateOnly today)
    {
        foreach (var item in items)
        {
            if (item.Paid || item.AmountMinor <= 0) continue;
            foreach (var rule in rules)
            {
                DateOnly on = rule.When switch
                {
                    ReminderWhen.BeforeDue => item.DueDate.AddDays(-rule.Days),
                    ReminderWhen.AfterDue => item.DueDate.AddDays(rule.Days),
                    _ => item.DueDate,
                };
                if (on != today) continue;
                int dpd = Math.Max(0, today.DayNumber - item.DueDate.DayNumber);
                yield return new ReminderTrigger($"reminder:{item.AccountId}:{item.DueDate:yyyy-MM-dd}:{rule.Name}", rule, item, dpd);
            }
        }
    }
}

/// <summary>The collections messaging policy as one piece of data: reminder rules and the templates they use.</summary>
public sealed class CollectionsPolicy
{
    public List<ReminderRule> Rules { get; set; } = ReminderRules.Default();
    public List<MessageTemplate> Templates { get; set; } = MessageTemplates.Default();

    /// <summary>Every rule valid, every template key used by a rule present in Chinese and English, every template renderable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = ReminderRules.Validate(Rules).ToList();
        var sample = MessageTemplates.Variables.ToDictionary(v => v, v => v);
        for (int i = 0; i < Templates.Count; i++)
        {
            var t = Templates[i];
            if (string.IsNullOrWhiteSpace(t.Key)) problems.Add($"templates[{i}].key: is required");
            if (t.Language is not ("zh-CN" or "en")) problems.Add($"templates[{i}].language: zh-CN or en");
            if (MessageTemplates.Render(t.Subject, sample).Error is { } se) problems.Add($"templates[{i}].subject: {se}");
            if (string.IsNullOrWhiteSpace(t.Body)) problems.Add($"templates[{i}].body: is required");
            else if (MessageTemplates.Render(t.Body, sample).Error is { } be) problems.Add($"templates[{i}].body: {be}");
        }
        foreach (var dup in Templates.GroupBy(t => (t.Key, t.Language)).Where(g => g.Count() > 1)) problems.Add($"templates: {dup.Key.Key}/{dup.Key.Language} is defined twice");
        foreach (string key in Rules.Select(r => r.TemplateKey).Where(k => !string.IsNullOrWhiteSpace(k)).Distinct())
        foreach (string language in new[] { "zh-CN", "en" })
            if (!Templates.Any(t => t.Key == key && t.Language == language)) problems.Add($"templates: '{key}' has no {language} text");
        return problems;
    }
}
