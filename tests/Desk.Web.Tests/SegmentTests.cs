using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Desk.Domain;
using Microsoft.Extensions.DependencyInjection;

namespace Desk.Web.Tests;

/// <summary>Segments through the pages: saved AND/OR/NOT filters, counts and totals, CSV export, visibility rules.</summary>
public class SegmentTests
{
    private static async Task<DeskHost> StartAsync(string storage = Storage.Sqlite)
    {
        var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync(), null, [.. await Storage.ArgumentsAsync(storage), "--Desk:FollowEngine=false"]);
        await desk.AddUserAsync("fay", "finance");
        await desk.AddUserAsync("sam", "sales");
        await desk.AddUserAsync("sue", "sales");
        // The portfolio goes straight into the database: segments read only the desk's projection.
        using var scope = desk.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<Data.DeskDb>();
        var vip = new Tag { Name = "vip", Color = "#aa3300" };
        db.Tags.Add(vip);
        Customer C(string name, string region, string owner, string grade, int dpd, long limitMajor, long postedMajor) => new()
        {
            Uscc = TestData.NewUscc(), LegalName = name, Region = region, OwnerUserName = owner, Grade = grade, DpdDays = dpd, Stage = LifecycleStage.Active,
            LimitMinor = limitMajor * 100, PostedMinor = postedMajor * 100, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        };
        var east = C("East Steel", "华东", "sam", "A", 0, 100_000, 40_000);
        var eastLate = C("=East Paper", "华东", "sue", "C", 45, 20_000, 19_000);
        var north = C("North Foods", "华北", "sam", "B", 0, 60_000, 10_000);
        var south = C("South Lead", "华南", "sue", "D", 0, 5_000, 0);
        db.Customers.AddRange(east, eastLate, north, south);
        await db.SaveChangesAsync();
        db.CustomerTags.Add(new CustomerTag { CustomerId = north.Id, TagId = vip.Id });
        await db.SaveChangesAsync();
        return desk;
    }

    private const string Filter = "(region = 华东 AND NOT dpd > 30) OR (grade in A,B AND tag:vip)";

    private static async Task<long> SaveAsync(DeskClient client, string name, string filter)
    {
        var saved = await client.PostFormAsync("/segments", new() { ["name"] = name, ["filter"] = filter });
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        return long.Parse(Regex.Match(saved.Headers.Location!.OriginalString, @"/segments/(\d+)").Groups[1].Value);
    }

    [Theory]
    [InlineData(Storage.Sqlite)]
    [InlineData(Storage.Postgres)]
    public async Task A_saved_segment_shows_its_count_and_totals_and_exports_its_customers_as_csv(string storage)
    {
        await using var desk = await StartAsync(storage);
        using var fay = await DeskClient.SignedInAsync(desk.Address, "fay");
        long id = await SaveAsync(fay, "Healthy east or VIP", Filter);

        string page = await fay.Http.GetStringAsync($"/segments/{id}");
        Assert.Contains("<b class=\"count\">2</b> customers", page); // East Steel and North Foods
        Assert.Contains("160,000.00", page); // limit total ¥160,000.00
        Assert.Contains("50,000.00", page); // posted total
        Assert.Contains("East Steel", page);
        Assert.DoesNotContain("East Paper", page);
        Assert.Contains("<b class=\"count\">2</b>", await fay.Http.GetStringAsync("/segments"));

        var export = await fay.Http.GetAsync($"/segments/{id}?handler=Export");
        Assert.Equal("text/csv", export.Content.Headers.ContentType!.MediaType);
        byte[] bytes = await export.Content.ReadAsByteArrayAsync();
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        var rows = Csv.Parse(Encoding.UTF8.GetString(bytes[3..]));
        Assert.Equal("grade", rows[0][^2]); // finance sees grades in the export
        Assert.Equal(["East Steel", "North Foods"], rows.Skip(1).Select(r => r[2]).ToArray());
        Assert.Equal("100000.00", rows[1][8]);

        // Edits and deletions are audited on the segment.
        var edited = await fay.PostFormAsync($"/segments/{id}?handler=Save", new() { ["name"] = "All east", ["filter"] = "region = 华东" }, $"/segments/{id}");
        Assert.Equal(HttpStatusCode.Redirect, edited.StatusCode);
        string after = await fay.Http.GetStringAsync($"/segments/{id}");
        Assert.Contains("<b class=\"count\">2</b>", after);
        Assert.Contains("=East Paper", after);
        string csv = await fay.Http.GetStringAsync($"/segments/{id}?handler=Export");
        Assert.Contains(",'=East Paper,", csv); // a leading '=' cannot run as a spreadsheet formula
        Assert.Equal(["create", "update"], desk.With(db => db.Audit.Where(a => a.EntityType == "Segment").OrderBy(a => a.Id).Select(a => a.Action).ToList()));
    }

    [Fact]
    public async Task A_bad_filter_is_refused_with_the_position_and_nothing_is_saved()
    {
        await using var desk = await StartAsync();
        using var fay = await DeskClient.SignedInAsync(desk.Address, "fay");
        var refused = await fay.PostFormAsync("/segments", new() { ["name"] = "broken", ["filter"] = "region = 华东 AND (dpd >" });
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("filter: the filter ends where a value was expected", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));
        var unknown = await fay.Http.GetStringAsync("/segments?filter=colour%20%3D%20red");
        Assert.Contains("unknown field &#x27;colour&#x27; at position 1", unknown);
        Assert.Equal(0, desk.With(db => db.Segments.Count()));
    }

    [Fact]
    public async Task Sales_count_only_their_own_customers_and_may_not_filter_on_grades()
    {
        await using var desk = await StartAsync();
        using var fay = await DeskClient.SignedInAsync(desk.Address, "fay");
        using var sam = await DeskClient.SignedInAsync(desk.Address, "sam");
        long east = await SaveAsync(sam, "My east", "region = 华东 OR region = 华北");
        Assert.Contains("<b class=\"count\">2</b>", await sam.Http.GetStringAsync($"/segments/{east}")); // East Steel, North Foods (not sue's East Paper)
        Assert.Contains("<b class=\"count\">3</b>", await fay.Http.GetStringAsync($"/segments/{east}"));
        string samCsv = await sam.Http.GetStringAsync($"/segments/{east}?handler=Export");
        Assert.DoesNotContain("grade", samCsv.Split('\n')[0]);

        var refused = await sam.PostFormAsync("/segments", new() { ["name"] = "graded", ["filter"] = "grade = D" });
        Assert.Contains("is visible only to finance, risk and manager", await refused.Content.ReadAsStringAsync());
        long graded = await SaveAsync(fay, "Grade D", "grade = D");
        string shown = await sam.Http.GetStringAsync($"/segments/{graded}");
        Assert.Contains("is visible only to finance, risk and manager", shown);
        Assert.DoesNotContain("South Lead", shown);
        Assert.Equal(HttpStatusCode.BadRequest, (await sam.Http.GetAsync($"/segments/{graded}?handler=Export")).StatusCode);
    }
}
