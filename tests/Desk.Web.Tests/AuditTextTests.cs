using System.Text.Json;
using Desk.Domain;
using Desk.Web.Localization;
using Desk.Web.Services;

namespace Desk.Web.Tests;

public class AuditTextTests
{
    [Fact]
    public void A_change_reads_field_old_to_new_with_minor_units_as_money()
    {
        var lines = AuditText.Lines("""{"LimitMinor":2000000,"Region":"华东","Currency":"CNY"}""", """{"LimitMinor":8000000,"Region":"华南","Currency":"CNY"}""").ToList();
        Assert.Equal(["Limit: ¥20,000.00 → ¥80,000.00", "Region: 华东 → 华南"], lines); // unchanged Currency is left out
    }

    [Fact]
    public void Creation_and_deletion_read_as_new_values_and_old_to_nothing()
    {
        Assert.Equal(["Name: vip", "Filter: tag:vip"], AuditText.Lines(null, """{"Name":"vip","Filter":"tag:vip"}"""));
        Assert.Equal(["Name: vip → —"], AuditText.Lines("""{"Name":"vip"}""", null));
        Assert.Equal(["HeldMinor: —"], AuditText.Lines(null, """{"HeldMinor":null}""").Select(l => l.Replace("Held:", "HeldMinor:")));
    }

    [Fact]
    public void Escaped_json_from_older_records_still_reads_as_characters()
    {
        Assert.Equal("amount: ¥80,000.00 · grade: B", AuditText.Fields("""{"amount":"\u00A580,000.00","grade":"B"}"""));
    }

    [Fact]
    public void New_records_store_CJK_and_yen_unescaped()
    {
        string audit = Audit.ToJson(new { amount = Money.Format(8_000_000, "CNY"), name = "上海恒通贸易有限公司" });
        Assert.Contains("¥80,000.00", audit);
        Assert.Contains("上海恒通", audit);
        string seen = JsonSerializer.Serialize(new { amount = "¥1.00", kind = ApplicationKind.LimitChange }, ApprovalFlow.SeenJson);
        Assert.Equal("""{"amount":"¥1.00","kind":"LimitChange"}""", seen);
    }
}
