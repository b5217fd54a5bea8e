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

/// <summary>
/// Temporary directories of this test process, all under one run directory (<c>desk-tests/run-{pid}</c>) that is
/// deleted at exit after the servers the tests started (<see cref="AtExit"/>) are stopped. The test runner may kill
/// the test process before that finishes, so each run first reaps the directories of runs whose process is gone,
/// killing a PostgreSQL server still running from them.
/// </summary>
public static class Temp
{
    private static readonly string Base = Path.Combine(Path.GetTempPath(), "desk-tests");
    private static readonly string Run = Path.Combine(Base, $"run-{Environment.ProcessId}");
    private static readonly Stack<Action> Exits = new();

    static Temp()
    {
        ReapDeadRuns();
        System.IO.Directory.CreateDirectory(Run);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (Exits) while (Exits.Count > 0) { try { Exits.Pop()(); } catch (Exception e) { Console.Error.WriteLine($"cleanup: {e.Message}"); } }
            Delete(Run);
        };
    }

    /// <summary>Runs <paramref name="stop"/> when the process exits, before the run directory is deleted (last registered, first run).</summary>
    public static void AtExit(Action stop) { lock (Exits) Exits.Push(stop); }

    public static string Directory(string kind)
    {
        string path = Path.Combine(Run, kind + "-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Deletes a test directory; a failure is reported on stderr, never fails the test that is cleaning up.</summary>
    public static void Delete(string path)
    {
        try { if (System.IO.Directory.Exists(path)) System.IO.Directory.Delete(path, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Console.Error.WriteLine($"could not delete {path}: {e.Message}"); }
    }

    private static void ReapDeadRuns()
    {
        if (!System.IO.Directory.Exists(Base)) return;
        foreach (string run in System.IO.Directory.GetDirectories(Base, "run-*"))
        {
            if (!int.TryParse(Path.GetFileName(run)["run-".Length..], out int pid) || pid == Environment.ProcessId || Alive(pid)) continue;
            foreach (string pidFile in System.IO.Directory.GetFiles(run, "postmaster.pid", SearchOption.AllDirectories))
            {
                if (int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out int postmaster) && Alive(postmaster))
                {
                    using var orphan = Process.GetProcessById(postmaster);
                    orphan.Kill(entireProcessTree: true);
                    orphan.WaitForExit(10_000);
                }
            }
            Delete(run);
        }
    }

    private static bool Alive(int pid) => System.IO.Directory.Exists($"/proc/{pid}");
}

/// <summary>A real engine in this process on a free loopback port and a temporary data directory, deleted on dispose.</summary>
public sealed class EngineHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;
    public string Address { get; }

    private EngineHost(WebApplication app, string address, string dataDirectory) { _app = app; Address = address; _dataDirectory = dataDirectory; }

    public static Task<EngineHost> StartAsync() => StartAsync([]);

    /// <summary>An engine of its own, e.g. with <c>--Engine:Clock:AllowAdvance=true</c> for a test that moves engine time.</summary>
    public static async Task<EngineHost> StartAsync(params string[] extra)
    {
        string data = Temp.Directory("engine");
        var app = ServerApp.Build(["--urls", "http://127.0.0.1:0", $"--Engine:DataDirectory={data}", "--Engine:JournalPageSizeBits=20",
            "--Engine:JournalMemorySizeBits=22", "--Engine:JournalSegmentSizeBits=24", "--Logging:LogLevel:Default=Warning",
            // This process also loads the desk's Microsoft.OpenApi 2.x; the engine's OpenAPI document needs 1.x (JsonTranscoding.OpenApiSetting).
            "--Server:OpenApiDocument=false", .. extra]);
        await app.StartAsync();
        return new EngineHost(app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single(), data);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Temp.Delete(_dataDirectory);
    }
}

/// <summary>The desk in this process (the same DeskApp.Build as the executable) with Kestrel on a free loopback port.</summary>
public sealed class DeskHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    /// <summary>The data directory when this host created it (deleted on dispose); null when the test owns it.</summary>
    private readonly string? _ownDirectory;
    public string Address { get; }
    public string AdminPassword { get; }
    public IServiceProvider Services => _app.Services;

    private DeskHost(WebApplication app, string address, string adminPassword, string? ownDirectory)
    {
        _app = app; Address = address; AdminPassword = adminPassword; _ownDirectory = ownDirectory;
    }

    public static List<string> Arguments(string engineAddress, string dataDirectory, params string[] extra) =>
    [
        "--urls", "http://127.0.0.1:0", $"--Desk:EngineUrl={engineAddress}", $"--Desk:DataDirectory={dataDirectory}", "--Desk:JobIntervalMs=200",
        "--Desk:WriteBackBackoffMs=100", "--Desk:WriteBackBackoffMaxMs=500", "--Logging:LogLevel:Default=Warning",
        "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information", .. extra,
    ];

    public static async Task<DeskHost> StartAsync(string engineAddress, string? dataDirectory = null, params string[] extra)
    {
        string? own = dataDirectory is null ? Temp.Directory("desk") : null;
        var app = DeskApp.Build([.. Arguments(engineAddress, dataDirectory ?? own!, extra)]);
        string? password = await Bootstrap.RunAsync(app.Services, app.Logger);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new DeskHost(app, address, password ?? "", own);
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
        // SQLite keeps pooled connections (and their file handles) open past the host; release them before deleting.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Npgsql.NpgsqlConnection.ClearAllPools();
        if (_ownDirectory is not null) Temp.Delete(_ownDirectory);
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
