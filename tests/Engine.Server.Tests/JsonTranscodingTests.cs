using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>
/// The JSON door (issue #14 item 7): the query and account-administration RPCs as JSON over HTTP through gRPC JSON
/// transcoding, on the server's own port (HTTP/2 with prior knowledge, what <c>curl --http2-prior-knowledge</c> does),
/// and the OpenAPI document of those routes.
/// </summary>
public sealed class JsonTranscodingTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _http = new HttpClient
        {
            BaseAddress = new Uri(_server.Address),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task OpenAccount_and_ChangeLimit_posted_as_JSON_are_executed_and_GetAccount_answers_as_JSON()
    {
        string account = Id("acct");
        using HttpResponseMessage opened = await _http.PostAsJsonAsync("/v1/accounts",
            new { request_id = Id("open"), account_id = account, customer_id = "cust-1", currency = "USD", credit_limit = "100000" });
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        JsonElement openReply = await opened.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(openReply.GetProperty("approved").GetBoolean());
        Assert.Equal("STATUS_OK", openReply.GetProperty("status").GetString());
        Assert.Equal("00", openReply.GetProperty("responseCode").GetString());

        using HttpResponseMessage changed = await _http.PostAsJsonAsync($"/v1/accounts/{account}:changeLimit", new { request_id = Id("limit"), credit_limit = "250000" });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        JsonElement changeReply = await changed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("STATUS_OK", changeReply.GetProperty("status").GetString());
        string sequence = changeReply.GetProperty("sequence").GetString()!;

        using HttpResponseMessage got = await _http.GetAsync($"/v1/accounts/{account}?min_sequence={sequence}");
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
        JsonElement view = (await got.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("account");
        Assert.Equal(account, view.GetProperty("accountId").GetString());
        Assert.Equal("250000", view.GetProperty("creditLimit").GetString());
        Assert.Equal("250000", view.GetProperty("available").GetString());
        Assert.Equal("0", view.GetProperty("held").GetString()); // defaults are written, not left out

        using HttpResponseMessage authorizations = await _http.GetAsync($"/v1/accounts/{account}/authorizations?filter=AUTHORIZATION_FILTER_ALL");
        Assert.Equal(HttpStatusCode.OK, authorizations.StatusCode);
        using HttpResponseMessage events = await _http.GetAsync($"/v1/accounts/{account}/events?min_sequence={sequence}");
        JsonElement eventPage = await events.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, eventPage.GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task Bad_JSON_input_is_400_naming_the_field_and_an_unknown_account_is_404()
    {
        using HttpResponseMessage bad = await _http.PostAsJsonAsync("/v1/accounts",
            new { request_id = Id("open"), account_id = Id("acct"), customer_id = "c", currency = "USD", credit_limit = "-1" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        JsonElement error = await bad.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("credit_limit", error.GetProperty("message").GetString());

        using HttpResponseMessage missing = await _http.GetAsync("/v1/accounts/no-such-account");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_lists_the_query_and_administration_routes_and_no_authorization_path()
    {
        using HttpResponseMessage response = await _http.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement document = await response.Content.ReadFromJsonAsync<JsonElement>();
        JsonElement paths = document.GetProperty("paths");
        string[] names = [.. paths.EnumerateObject().Select(p => p.Name)];
        Assert.Contains("/v1/accounts", names);
        Assert.Contains("/v1/accounts/{accountId}", names);
        Assert.Contains("/v1/accounts/{accountId}:changeLimit", names);
        Assert.Contains("/v1/accounts/{accountId}/events", names);
        Assert.True(paths.GetProperty("/v1/accounts").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/v1/accounts/{accountId}").TryGetProperty("get", out _));
        Assert.DoesNotContain(names, n => n.Contains("authorize", StringComparison.OrdinalIgnoreCase) && !n.Contains("authorizations", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_the_OpenAPI_document_off_the_JSON_door_still_works_and_no_document_is_served()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Server:OpenApiDocument=false");
        using var http = new HttpClient
        {
            BaseAddress = new Uri(server.Address),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using HttpResponseMessage document = await http.GetAsync("/openapi/v1.json");
        using HttpResponseMessage unknown = await http.GetAsync("/v1/accounts/no-such-account");

        Assert.NotEqual(HttpStatusCode.OK, document.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
