using Credit.V1;
using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Desk.Web.Tests;

/// <summary>
/// An engine of its own with the test clock on (<c>Engine:Clock:AllowAdvance=true</c>: moving engine time moves it for
/// every account, so these tests do not share the assembly's engine) and a desk following it; helpers to open customers,
/// post, repay, move the clock and wait until the desk's projection has applied everything the engine recorded.
/// </summary>
public sealed class LifecycleWorld : IAsyncDisposable
{
    public EngineHost Engine { get; }
    public DeskHost Desk { get; }
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private int _requests;
    private long _markerLimit = 1;
    /// <summary>How far the test has moved engine time, ms (the engine's clock offset).</summary>
    public long OffsetMs { get; private set; }

    private LifecycleWorld(EngineHost engine, DeskHost desk) { Engine = engine; Desk = desk; }

    public static async Task<LifecycleWorld> StartAsync(params string[] deskArguments)
    {
        var engine = await EngineHost.StartAsync("--Engine:Clock:AllowAdvance=true");
        // A generous engine deadline: these flows make many calls on a shared 2-core CI machine; the rules, not the speed, are tested.
        var desk = await DeskHost.StartAsync(engine.Address, null, ["--Desk:EngineDeadlineMs=30000", .. deskArguments]);
        var world = new LifecycleWorld(engine, desk);
        var marker = await world.Gateway.Client.OpenAccountAsync(new OpenAccountRequest { RequestId = world.Id(), AccountId = world.MarkerAccount, CustomerId = "marker", Currency = "CNY", CreditLimit = 1 });
        Assert.True(marker.Approved, marker.Status.ToString());
        return world;
    }

    private string MarkerAccount => $"marker-{_run}";
    private string Id() => $"t-{_run}-{Interlocked.Increment(ref _requests)}";
    public EngineGateway Gateway => Desk.Services.GetRequiredService<EngineGateway>();

    /// <summary>The engine's day now (UTC days since the epoch), as the engine sees it: wall clock + offset.</summary>
    public int EngineDay => DueRules.DayOf(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + OffsetMs);

    public async Task<(Customer Customer, string AccountId)> CustomerAsync(string name, long limitMinor, int termsDays, string owner, string region, string industry, string? email = null)
    {
        using var scope = Desk.Services.CreateScope();
        var customers = scope.ServiceProvider.GetRequiredService<CustomerService>();
        var c = new Customer { Uscc = TestData.NewUscc(), LegalName = name, OwnerUserName = owner, Region = region, Industry = industry, Stage = LifecycleStage.Active, ContactEmail = email };
        var (created, error) = await customers.CreateAsync(c, "test");
        Assert.True(created is not null, error);
        var (account, openError) = await customers.OpenMainAccountAsync(created!, limitMinor, termsDays, "test");
        Assert.True(account is not null, openError);
        return (created!, account!.AccountId);
    }

    public async Task PurchaseAsync(string accountId, long amountMinor)
    {
        string auth = Id();
        var authorized = await Gateway.Client.AuthorizeAsync(new AuthorizeRequest { RequestId = auth, AccountId = accountId, Amount = amountMinor, Currency = "CNY", MerchantId = "m", Mcc = 5045 });
        Assert.True(authorized.Approved, authorized.Status.ToString());
        var captured = await Gateway.Client.CaptureAsync(new CaptureRequest { RequestId = auth + "-c", AuthorizationId = auth, Amount = amountMinor, Final = true });
        Assert.True(captured.Approved, captured.Status.ToString());
    }

    /// <summary>A posting without authorization (it posts on a frozen account too, as captures do).</summary>
    public async Task ForcePostAsync(string accountId, long amountMinor)
    {
        var posted = await Gateway.Client.ForcePostAsync(new ForcePostRequest { RequestId = Id(), AccountId = accountId, Amount = amountMinor, MerchantId = "m", Mcc = 5045 });
        Assert.True(posted.Approved, posted.Status.ToString());
    }

    public async Task RepayAsync(string accountId, long amountMinor)
    {
        var repaid = await Gateway.Client.RepayAsync(new RepayRequest { RequestId = Id(), AccountId = accountId, Amount = amountMinor });
        Assert.True(repaid.Approved, repaid.Status.ToString());
    }

    /// <summary>Moves engine time forward; what falls due in between is played by the engine before it answers.</summary>
    public async Task AdvanceDaysAsync(int days)
    {
        long ms = days * DueRules.DayMs;
        var reply = await Gateway.Lifecycle.AdvanceClockAsync(new AdvanceClockRequest { RequestId = Id(), AdvanceMs = ms });
        Assert.True(reply.Approved, reply.Status.ToString());
        OffsetMs += ms;
    }

    /// <summary>
    /// Waits until the desk has applied every event so far: a marker command (a limit change on an account the desk does
    /// not know) is recorded after everything before it, so once the desk's position reaches its sequence, it has all.
    /// </summary>
    public async Task SyncAsync()
    {
        var reply = await Gateway.Client.ChangeLimitAsync(new ChangeLimitRequest { RequestId = Id(), AccountId = MarkerAccount, CreditLimit = ++_markerLimit });
        Assert.True(reply.Approved, reply.Status.ToString());
        await Wait.UntilAsync(async () => (await StateAsync()).Position >= reply.Sequence, $"the desk's projection to reach sequence {reply.Sequence}");
    }

    public async Task<ProjectionState> StateAsync()
    {
        using var scope = Desk.Services.CreateScope();
        return await ProjectionState.ReadAsync(scope.ServiceProvider.GetRequiredService<DeskDb>());
    }

    public async Task<T> DbAsync<T>(Func<DeskDb, Task<T>> read)
    {
        using var scope = Desk.Services.CreateScope();
        return await read(scope.ServiceProvider.GetRequiredService<DeskDb>());
    }

    public Task<CollectionCase?> CaseAsync(string accountId) => DbAsync(db => db.Cases.AsNoTracking().Include(c => c.Actions).FirstOrDefaultAsync(c => c.AccountId == accountId));

    public async ValueTask DisposeAsync()
    {
        await Desk.DisposeAsync();
        await Engine.DisposeAsync();
    }
}
