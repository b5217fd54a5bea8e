namespace Desk.Domain.Tests;

public class OutboxTests
{
    [Fact]
    public void Backoff_doubles_from_the_first_delay_up_to_the_maximum()
    {
        var first = TimeSpan.FromSeconds(5);
        var max = TimeSpan.FromMinutes(1);
        Assert.Equal([5, 10, 20, 40, 60, 60], Enumerable.Range(1, 6).Select(a => OutboxRules.Backoff(a, first, max).TotalSeconds));
    }

    [Fact]
    public void The_webhook_signature_is_the_hmac_of_timestamp_and_body()
    {
        // HMAC-SHA256("key", "1700000000.{}") from printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        string sig = OutboxRules.Signature("key", 1_700_000_000, "{}");
        Assert.Equal("sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae", sig);
        Assert.NotEqual(sig, OutboxRules.Signature("key", 1_700_000_001, "{}"));
        Assert.NotEqual(sig, OutboxRules.Signature("other", 1_700_000_000, "{}"));
    }

    [Theory]
    [InlineData(OutboxChannel.Webhook, "ftp://x", "target: ")]
    [InlineData(OutboxChannel.Email, "not-an-address", "target: ")]
    [InlineData(OutboxChannel.Email, "a@b.cn", null)]
    public void A_message_with_a_bad_target_is_refused_naming_the_field(OutboxChannel channel, string target, string? error)
    {
        string? problem = OutboxRules.Validate(new OutboxMessage { TriggerKey = "t", Channel = channel, Target = target, Body = "x" });
        if (error is null) Assert.Null(problem); else Assert.StartsWith(error, problem);
    }

    private static readonly Dictionary<string, string> Values = new()
    {
        ["customer"] = "上海恒通贸易有限公司", ["amount"] = "¥12,000.00", ["dpd"] = "5", ["due_date"] = "2026-12-01", ["account"] = "c-1",
    };

    [Fact]
    public void Templates_render_their_variables_in_Chinese_and_English()
    {
        var templates = MessageTemplates.Default();
        var zh = MessageTemplates.Find(templates, "reminder-overdue", "zh-CN")!;
        Assert.Equal("尊敬的上海恒通贸易有限公司：您的账户 c-1 有 ¥12,000.00 已逾期 5 天（到期日 2026-12-01），请尽快还款。", MessageTemplates.Render(zh.Body, Values).Text);
        var en = MessageTemplates.Find(templates, "reminder-overdue", "en")!;
        Assert.Equal("Overdue: 上海恒通贸易有限公司", MessageTemplates.Render(en.Subject, Values).Text);
        Assert.Equal("zh-CN", MessageTemplates.Find(templates, "reminder-due", "fr")!.Language); // Chinese when the language is missing
        Assert.Equal("{literal} ¥12,000.00", MessageTemplates.Render("{{literal}} {amount}", Values).Text);
    }

    [Fact]
    public void A_template_with_an_unknown_variable_is_an_error_naming_it()
    {
        Assert.Equal("template: unknown variable 'balance' (known: customer, amount, dpd, due_date, account)", MessageTemplates.Render("{balance}", Values).Error);
        Assert.StartsWith("dpd: ", MessageTemplates.Render("{dpd}", new Dictionary<string, string>()).Error);
        Assert.StartsWith("template: '{' at position 3", MessageTemplates.Render("ab{amount", Values).Error);
    }

    [Fact]
    public void Reminder_rules_fire_before_on_and_after_the_due_date_once_per_item_and_rule()
    {
        var rules = ReminderRules.Default();
        Assert.Empty(ReminderRules.Validate(rules));
        var due = new DateOnly(2026, 12, 10);
        var items = new[]
        {
            new DueItem("c-1", "A", due, 1_000_00, "CNY", Paid: false),
            new DueItem("c-2", "B", due, 2_000_00, "CNY", Paid: true), // paid: no reminder
        };
        Assert.Equal(["reminder:c-1:2026-12-10:before-3"], ReminderRules.Due(rules, items, new DateOnly(2026, 12, 7)).Select(t => t.TriggerKey));
        Assert.Equal(["reminder:c-1:2026-12-10:on-due"], ReminderRules.Due(rules, items, due).Select(t => t.TriggerKey));
        var after = ReminderRules.Due(rules, items, new DateOnly(2026, 12, 13)).Single();
        Assert.Equal(("reminder:c-1:2026-12-10:after-3", 3), (after.TriggerKey, after.Dpd));
        Assert.Empty(ReminderRules.Due(rules, items, new DateOnly(2026, 12, 11)));
    }

    [Fact]
    public void Bad_reminder_rules_are_refused_naming_the_field()
    {
        var problems = ReminderRules.Validate([new() { Name = "x", When = ReminderWhen.AfterDue, Days = 0, TemplateKey = "t" }, new() { Name = "x", When = ReminderWhen.OnDue, TemplateKey = "" }]);
        Assert.Contains("rules[0].days: 1..365", problems);
        Assert.Contains("rules[1].templateKey: is required", problems);
        Assert.Contains("rules: name 'x' is used twice", problems);
    }
}

public class CollectionsPolicyTests
{
    [Fact]
    public void The_default_rules_and_templates_are_valid() => Assert.Empty(new CollectionsPolicy().Validate());

    [Fact]
    public void A_rule_whose_template_lacks_a_language_or_a_template_with_an_unknown_variable_is_refused()
    {
        var policy = new CollectionsPolicy();
        policy.Templates.RemoveAll(t => t.Key == "reminder-due" && t.Language == "en");
        policy.Templates[0].Body = "{customer} owes {balance}";
        var problems = policy.Validate();
        Assert.Contains("templates: 'reminder-due' has no en text", problems);
        Assert.Contains(problems, p => p.StartsWith("templates[0].body: template: unknown variable 'balance'"));
    }
}
