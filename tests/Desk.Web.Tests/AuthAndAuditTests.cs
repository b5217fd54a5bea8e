using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Tests;

public class AuthAndAuditTests
{
    private static async Task<DeskHost> StartAsync(string storage = Storage.Sqlite) =>
        await DeskHost.StartAsync(await SharedEngine.AddressAsync(), null, await Storage.ArgumentsAsync(storage));

    [Theory]
    [InlineData(Storage.Sqlite)]
    [InlineData(Storage.Postgres)]
    public async Task First_start_creates_the_admin_with_a_one_time_password_that_must_be_changed(string storage)
    {
        await using var desk = await StartAsync(storage);
        Assert.Equal(16, desk.AdminPassword.Length);
        using var admin = new DeskClient(desk.Address);
        var wrong = await admin.PostFormAsync("/login", new() { ["username"] = "admin", ["password"] = "nope" });
        Assert.Contains("Wrong user name or password", await wrong.Content.ReadAsStringAsync());
        var signIn = await admin.PostFormAsync("/login", new() { ["username"] = "admin", ["password"] = desk.AdminPassword });
        Assert.Equal("/password", signIn.Headers.Location!.OriginalString);
        var changed = await admin.PostFormAsync("/password", new() { ["current"] = desk.AdminPassword, ["next"] = "a-new-password-123" });
        Assert.Contains("Password changed", await changed.Content.ReadAsStringAsync());
        Assert.Contains(desk.With(db => db.Audit.Where(a => a.EntityType == "User").Select(a => a.Action).ToList()), a => a == "change-password");
    }

    [Fact]
    public async Task Anonymous_requests_get_401_on_the_api_and_the_sign_in_page_on_pages()
    {
        await using var desk = await StartAsync();
        using var anonymous = new DeskClient(desk.Address);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.Http.GetAsync("/api/v1/customers")).StatusCode);
        var page = await anonymous.Http.GetAsync("/customers");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login", page.Headers.Location!.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.Http.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task Sales_see_only_their_own_customers_and_no_scores()
    {
        await using var desk = await StartAsync();
        await desk.AddUserAsync("s1", "sales");
        await desk.AddUserAsync("s2", "sales");
        await desk.AddUserAsync("f1", "finance");
        using var s1 = await DeskClient.SignedInAsync(desk.Address, "s1");
        using var s2 = await DeskClient.SignedInAsync(desk.Address, "s2");
        using var f1 = await DeskClient.SignedInAsync(desk.Address, "f1");
        var created = await s1.Http.PostAsJsonAsync("/api/v1/customers", new { uscc = TestData.NewUscc(), legalName = "S1 Trading", externalRating = "AA" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var customer = (await created.Content.ReadFromJsonAsync<Api.CustomerDto>())!;
        Assert.Equal("s1", customer.Owner);
        Assert.Null(customer.ExternalRating); // sales may not see external ratings
        Assert.Equal(HttpStatusCode.NotFound, (await s2.Http.GetAsync($"/api/v1/customers/{customer.Id}")).StatusCode);
        Assert.Empty(await s2.GetJsonAsync<List<Api.CustomerDto>>("/api/v1/customers"));
        var seenByFinance = await f1.GetJsonAsync<Api.CustomerDto>($"/api/v1/customers/{customer.Id}");
        Assert.Equal("AA", seenByFinance.ExternalRating);
    }

    [Fact]
    public async Task Each_role_boundary_is_enforced_on_pages_and_api()
    {
        await using var desk = await StartAsync();
        await desk.AddUserAsync("s1", "sales");
        await desk.AddUserAsync("c1", "collections");
        using var sales = await DeskClient.SignedInAsync(desk.Address, "s1");
        using var collector = await DeskClient.SignedInAsync(desk.Address, "c1");
        // Pages: sales may not manage users, edit policies or read the audit log.
        foreach (string page in new[] { "/admin/users", "/policies", "/audit" })
        {
            var r = await sales.Http.GetAsync(page);
            Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
            Assert.StartsWith("/denied", r.Headers.Location!.PathAndQuery);
        }
        // API: collections may not create customers or submit; sales may not read the audit log.
        Assert.Equal(HttpStatusCode.Forbidden, (await collector.Http.PostAsJsonAsync("/api/v1/customers", new { uscc = TestData.NewUscc(), legalName = "X" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await collector.Http.PostAsJsonAsync("/api/v1/applications", new { customerId = 1, kind = "NewLimit", amount = 1, reason = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await sales.Http.GetAsync("/api/v1/audit?entityType=User&entityId=s1")).StatusCode);
    }

    [Fact]
    public async Task Api_keys_authenticate_client_systems_with_roles()
    {
        await using var desk = await StartAsync();
        using (var scope = desk.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
            db.ApiClients.Add(new ApiClient { Name = "crm", KeyHash = Services.Passwords.HashApiKey("dk_test_key"), Roles = "sales", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }
        using var http = new HttpClient { BaseAddress = new Uri(desk.Address) };
        http.DefaultRequestHeaders.Add("X-Api-Key", "dk_test_key");
        var created = await http.PostAsJsonAsync("/api/v1/customers", new { uscc = TestData.NewUscc(), legalName = "From CRM" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Contains(desk.With(db => db.Audit.Where(a => a.Action == "create" && a.EntityType == "Customer").Select(a => a.Actor).ToList()), a => a == "api:crm");
        http.DefaultRequestHeaders.Remove("X-Api-Key");
        http.DefaultRequestHeaders.Add("X-Api-Key", "dk_wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/customers")).StatusCode);
    }

    [Theory]
    [InlineData(Storage.Sqlite)]
    [InlineData(Storage.Postgres)]
    public async Task Audit_entries_cannot_be_modified_or_deleted(string storage)
    {
        await using var desk = await StartAsync(storage);
        using var scope = desk.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        var entry = await db.Audit.FirstAsync();
        entry.Actor = "someone else";
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
        Assert.Contains("append-only", refused.Message);
        db.ChangeTracker.Clear();
        // Around EF too: the database's triggers refuse it.
        // PostgreSQL folds unquoted names to lower case; the migrations created quoted mixed-case names.
        (string update, string remove) = storage == Storage.Postgres
            ? ("UPDATE \"AuditEntries\" SET \"Actor\" = 'x'", "DELETE FROM \"AuditEntries\"")
            : ("UPDATE AuditEntries SET Actor = 'x'", "DELETE FROM AuditEntries");
        var sql = await Assert.ThrowsAnyAsync<Exception>(() => db.Database.ExecuteSqlRawAsync(update));
        Assert.Contains("append-only", sql.Message);
        var delete = await Assert.ThrowsAnyAsync<Exception>(() => db.Database.ExecuteSqlRawAsync(remove));
        Assert.Contains("append-only", delete.Message);
    }
}
