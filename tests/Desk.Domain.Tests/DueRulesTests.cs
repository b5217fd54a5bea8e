namespace Desk.Domain.Tests;

public class DueRulesTests
{
    private static List<AccountDue> Dues(params (int Day, long Amount)[] items)
    {
        var dues = new List<AccountDue>();
        foreach (var (day, amount) in items) DueRules.Add(dues, "a", 1, day, amount);
        return dues;
    }

    [Fact]
    public void Dues_of_one_day_merge_and_stay_in_day_order()
    {
        var dues = Dues((20, 100), (10, 50), (20, 25));
        Assert.Equal([(10, 50L), (20, 125L)], dues.Select(d => (d.DueDay, d.AmountMinor)));
    }

    [Fact]
    public void A_payment_pays_the_oldest_due_first_and_removes_what_it_paid_off()
    {
        var dues = Dues((10, 50), (20, 100));
        var (paid, off) = DueRules.Pay(dues, 80);
        Assert.Equal(80, paid);
        Assert.Equal([10], off.Select(d => d.DueDay));
        Assert.Equal([(20, 30L)], dues.Select(d => (d.DueDay, d.PaidMinor)));
        Assert.Equal(70, DueRules.Pay(dues, 500).PaidMinor); // never more than is open
        Assert.Empty(dues);
    }

    [Fact]
    public void When_posted_falls_below_the_open_dues_the_newest_shrink_first()
    {
        var dues = Dues((10, 50), (20, 100));
        var gone = DueRules.Shrink(dues, 40);
        Assert.Equal([20], gone.Select(d => d.DueDay));
        Assert.Equal([(10, 40L)], dues.Select(d => (d.DueDay, d.OpenMinor)));
        Assert.Equal([10], DueRules.Shrink(dues, -5).Select(d => d.DueDay)); // a credit balance owes nothing
    }

    [Fact]
    public void A_due_is_counted_as_new_past_due_once_in_the_month_of_the_day_after_its_date_with_its_open_amount_then()
    {
        int dec31 = DueRules.DayOf(new DateOnly(2026, 12, 31));
        var dues = Dues((dec31, 100), (dec31 + 5, 70));
        DueRules.Pay(dues, 30);
        Assert.Equal([(202701, 70L)], DueRules.Roll(dues, dec31 + 1));
        Assert.Empty(DueRules.Roll(dues, dec31 + 2));
        Assert.Equal([(202701, 70L)], DueRules.Roll(dues, dec31 + 6));
        // A plan scheduled into a day already past due is past due at once.
        Assert.Equal(40, DueRules.Add(dues, "a", 1, dec31, 40).NewlyPastDueMinor);
    }

    [Fact]
    public void Past_due_dpd_and_buckets_follow_each_dues_own_age()
    {
        var dues = Dues((100, 10), (140, 20), (200, 30));
        Assert.Equal(30, DueRules.PastDue(dues, 150));
        Assert.Equal(50, DueRules.Dpd(100, 150));
        Assert.Equal(0, DueRules.Dpd(150, 150));
        Assert.Equal(["31-60", "1-30", "current"], dues.Select(d => DueRules.Bucket(d.DueDay, 150)));
        Assert.Equal((120, 149), DueRules.BucketDays("1-30", 150));
        Assert.Equal((int.MinValue, -31), DueRules.BucketDays("180+", 150));
    }

    [Theory]
    [InlineData("WATCH", 0, "CURRENT")]
    [InlineData("FROZEN_DELINQUENT", 0, "CURRENT")]
    [InlineData("FROZEN_DELINQUENT", 1, "FROZEN_DELINQUENT")]
    [InlineData("CHARGED_OFF", 0, "CHARGED_OFF")]
    public void Paying_everything_past_due_cures_WATCH_and_FROZEN_but_not_CHARGED_OFF(string stage, long pastDue, string after) =>
        Assert.Equal(after, DueRules.Cured(stage, pastDue));

    [Fact]
    public void Months_count_across_year_ends() => Assert.Equal([202611, 202701, 202512], [DueRules.AddMonths(202612, -1), DueRules.AddMonths(202612, 1), DueRules.AddMonths(202612, -12)]);

    [Fact]
    public void The_shipped_reminder_templates_render_customer_amount_dpd_and_due_date_in_Chinese_and_English()
    {
        var values = new Dictionary<string, string> { ["customer"] = "C", ["amount"] = "¥1.00", ["dpd"] = "7", ["due_date"] = "2026-12-01", ["account"] = "c-1" };
        foreach (var key in new[] { "reminder-before-due", "reminder-due", "reminder-overdue" })
        foreach (var language in new[] { "zh-CN", "en" })
        {
            var t = MessageTemplates.Find(MessageTemplates.Default(), key, language)!;
            Assert.Equal(language, t.Language);
            string body = MessageTemplates.Render(t.Body, values).Text!;
            Assert.Contains("C", body);
            Assert.Contains("¥1.00", body);
            Assert.Contains("2026-12-01", body);
            if (key == "reminder-overdue") Assert.Contains("7", body);
        }
    }
}
