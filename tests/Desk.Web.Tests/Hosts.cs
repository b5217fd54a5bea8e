using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Desk.Web;
using Desk.Web.Data;
using Desk.Web.Pages.Admin;
using Desk.Web.Services;
using Engine.Server.Hosting;
using Engine.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Desk.Web.Tests;

public static class Temp
{
    public static string Directory(string kind)
    {
        string path = Path.Combine(Path.GetTempPath(), "desk-tests", kind + "-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>A real engine in this process on a free loopback port and a temporary data directory.</summary>
public sealed class EngineHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    public string Address { get; }

    private EngineHost(WebApplication app, string address) { _app = app; Address = address; }

    public static async Task<EngineHost> StartAsync()
    {
        string data = Temp.Directory("engine");
        var app = ServerApp.Build(["--urls", "http://127.0.0.1:0", $"--Engine:DataDirectory={data}", "--Engine:JournalPageSizeBits=20",
            "--Engine:JournalMemorySizeBits=22", "--Engine:JournalSegmentSizeBits=24", "--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync();
        return new EngineHost(app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The desk in this process (the same DeskApp.Build as the executable) with Kestrel on a free loopback port.</summary>
public sealed class DeskHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    public string Address { get; }
    public string AdminPassword { get; }
    public IServiceProvider Services => _app.Services;

    private DeskHost(WebApplication app, string address, string adminPassword) { _app = app; Address = address; AdminPassword = adminPassword; }

    public static List<string> Arguments(string engineAddress, string dataDirectory, params string[] extra) =>
    [
        "--urls", "http://127.0.0.1:0", $"--Desk:EngineUrl={engineAddress}", $"--Desk:DataDirectory={dataDirectory}", "--Desk:JobIntervalMs=200",
        "--Desk:WriteBackBackoffMs=100", "--Desk:WriteBackBackoffMaxMs=500", "--Logging:LogLevel:Default=Warning",
        "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information", .. extra,
    ];

    public static async Task<DeskHost> StartAsync(string engineAddress, string? dataDirectory = null, params string[] extra)
    {
        var app = DeskApp.Build([.. Arguments(engineAddress, dataDirectory ?? Temp.Directory("desk"), extra)]);
        string? password = await Bootstrap.RunAsync(app.Services, app.Logger);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new DeskHost(app, address, password ?? "");
    }

    public T With<T>(Func<DeskDb, T> read)
    {
        using var scope = Services.CreateScope();
        return read(scope.ServiceProvider.GetRequiredService<DeskDb>());
    }

    public async Task AddUserAsync(string userName, string roles, string titles = "")
    {
        using var scope = Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        var (ok, message) = await UserAdmin.SaveAsync(db, "test", userName, roles, titles, Users.Password, DateTimeOffset.UtcNow);
        Assert.True(ok, message);
        var user = db.Users.Single(u => u.UserName == userName);
        user.MustChangePassword = false;
        await db.SaveChangesAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public static class Users
{
    public const string Password = "test-password-1";
}

/// <summary>A browser-like HTTP client: cookies, the anti-forgery token of forms, sign-in through the page.</summary>
public sealed partial class DeskClient : IDisposable
{
    private readonly HttpClient _http;

    public DeskClient(string address)
    {
        _http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = new Uri(address) };
    }

    public HttpClient Http => _http;

    public static async Task<DeskClient> SignedInAsync(string address, string user, string password = Users.Password)
    {
        var client = new DeskClient(address);
        var response = await client.PostFormAsync("/login", new() { ["username"] = user, ["password"] = password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    public async Task<HttpResponseMessage> PostFormAsync(string path, Dictionary<string, string> fields, string? formPage = null)
    {
        string page = await _http.GetStringAsync(formPage ?? path);
        Match token = Token().Match(page);
        Assert.True(token.Success, "no anti-forgery token on " + (formPage ?? path));
        fields["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value);
        return await _http.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    public async Task<T> GetJsonAsync<T>(string path)
    {
        var response = await _http.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Token();

    public void Dispose() => _http.Dispose();
}

/// <summary>The desk as its own process (dotnet Desk.Web.dll, through the shared <see cref="ChildProcess"/>), so a test can kill it with SIGKILL mid-way.</summary>
public sealed class ChildDesk : IDisposable
{
    private readonly ChildProcess _child;

    private ChildDesk(IEnumerable<string> args) => _child = new ChildProcess("Desk.Web.dll", args, "desk");

    public string Address { get; private set; } = "";
    public Process Process => _child.Process;
    public string Output => _child.Output;

    public static async Task<ChildDesk> StartAsync(string engineAddress, string dataDirectory, params string[] extra)
    {
        var child = new ChildDesk(DeskHost.Arguments(engineAddress, dataDirectory, extra));
        try { child.Address = await child._child.WaitUntilListeningAsync(TimeSpan.FromSeconds(60)); }
        catch { child.Dispose(); throw; }
        return child;
    }

    /// <summary>Waits for the process to end by itself (a fail point kills it) within the bound.</summary>
    public Task WaitForExitAsync(TimeSpan timeout) => _child.WaitForExitAsync(timeout);

    public void Dispose() => _child.Dispose();
}

public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes (then fails with <paramref name="what"/>).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, int timeoutMs = 20_000)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.ElapsedMilliseconds > timeoutMs) Assert.Fail($"timed out after {timeoutMs} ms waiting for {what}");
            await Task.Delay(50);
        }
    }
}
