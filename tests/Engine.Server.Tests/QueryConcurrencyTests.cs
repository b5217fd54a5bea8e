using System.Collections.Concurrent;
using System.Diagnostics;
using Credit.V1;
using Grpc.Core;
using Status = Credit.V1.Status;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>
/// Queries are safe under concurrency (issue 9): readers over real loopback gRPC while commands flow see no error and
/// only consistent answers. Before the fix, concurrent ListAuthorizations failed with UNKNOWN ("An item with the same
/// key has already been added") from a view cache that queries filled under the shared read lock.
/// </summary>
public sealed class QueryConcurrencyTests
{
    private const int ReaderCount = 8;
    private const int WriterCount = 2;
    private const int AccountCount = 8;
    private const int PagesPerListMax = 50;
    private const long CreditLimitMinor = 1_000_000_000;
    private static readonly TimeSpan RunTime = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Queries_under_concurrent_commands_never_fail_and_stay_consistent()
    {
        await using TestServer server = await TestServer.StartAsync();
        string[] accounts = new string[AccountCount];
        for (int i = 0; i < AccountCount; i++) accounts[i] = await OpenAccountAsync(server, CreditLimitMinor);

        var errors = new ConcurrentQueue<string>();
        long writesCompleted = 0, readsCompleted = 0, readsOverlappingWrites = 0;
        // The account a writer touched last: readers ask for it often, so they list authorizations no query has seen yet.
        string hotAccount = accounts[0];
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();

        async Task WriteAsync(int writer)
        {
            var random = new Random(writer);
            while (!stop.IsCancellationRequested)
            {
                string account = accounts[random.Next(AccountCount)];
                Volatile.Write(ref hotAccount, account);
                try
                {
                    string authorizationId = Id("auth");
                    AuthorizeResponse authorized = await server.Authorization.AuthorizeAsync(
                        new AuthorizeRequest { RequestId = authorizationId, AccountId = account, Amount = 100, Currency = "USD" }, Deadline(30));
                    if (!authorized.Approved) errors.Enqueue($"authorize declined: {authorized.Status}");
                    Interlocked.Increment(ref writesCompleted);
                    // Leave some open (OPEN lists have something), close the rest by capture or void.
                    switch (random.Next(3))
                    {
                        case 0:
                            CaptureResponse captured = await server.Authorization.CaptureAsync(
                                new CaptureRequest { RequestId = Id("cap"), AuthorizationId = authorizationId, Amount = 60, Final = true }, Deadline(30));
                            if (captured.Status != Status.Ok) errors.Enqueue($"capture: {captured.Status}");
                            Interlocked.Increment(ref writesCompleted);
                            break;
                        case 1:
                            VoidResponse voided = await server.Authorization.VoidAsync(new VoidRequest { RequestId = Id("void"), AuthorizationId = authorizationId }, Deadline(30));
                            if (voided.Status != Status.Ok) errors.Enqueue($"void: {voided.Status}");
                            Interlocked.Increment(ref writesCompleted);
                            break;
                    }
                }
                catch (RpcException e)
                {
                    errors.Enqueue($"writer {writer}: {e.StatusCode} {e.Status.Detail}");
                }
            }
        }

        async Task ReadAsync(int reader)
        {
            var random = new Random(1000 + reader);
            for (long call = 0; !stop.IsCancellationRequested; call++)
            {
                string account = random.Next(2) == 0 ? Volatile.Read(ref hotAccount) : accounts[random.Next(AccountCount)];
                long writesBefore = Interlocked.Read(ref writesCompleted);
                try
                {
                    // Every reader cycles through all four query shapes.
                    switch ((call + reader) % 4)
                    {
                        case 0:
                            GetAccountResponse got = await server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account }, Deadline(30));
                            Credit.V1.Account a = got.Account;
                            if (a.Available != a.CreditLimit - a.Held - a.Posted) errors.Enqueue($"torn account: limit {a.CreditLimit} held {a.Held} posted {a.Posted} available {a.Available}");
                            break;
                        case 1:
                            List<AuthorizationView> open = await ListAllPagesAsync(server, account, AuthorizationFilter.Open);
                            if (open.Any(z => z.State != Credit.V1.AuthorizationState.Open)) errors.Enqueue("OPEN listed a closed authorization");
                            break;
                        case 2:
                            List<AuthorizationView> all = await ListAllPagesAsync(server, account, AuthorizationFilter.All);
                            if (!IsAscending(all.Select(z => z.CreatedSequence))) errors.Enqueue("ALL not in creation order");
                            break;
                        default:
                            ListEventsResponse events = await server.Queries.ListEventsAsync(new ListEventsRequest { AccountId = account, Limit = 200 }, Deadline(30));
                            if (!IsAscending(events.Events.Select(e => e.Sequence)) || events.Events.Any(e => e.AccountId != account)) errors.Enqueue("ListEvents out of order or another account's event");
                            break;
                    }
                    Interlocked.Increment(ref readsCompleted);
                    if (Interlocked.Read(ref writesCompleted) != writesBefore) Interlocked.Increment(ref readsOverlappingWrites);
                }
                catch (RpcException e)
                {
                    errors.Enqueue($"reader {reader}: {e.StatusCode} {e.Status.Detail}");
                }
            }
        }

        Task[] all = [.. Enumerable.Range(0, WriterCount).Select(w => Task.Run(() => WriteAsync(w))), .. Enumerable.Range(0, ReaderCount).Select(r => Task.Run(() => ReadAsync(r)))];
        stop.CancelAfter(RunTime);
        await Task.WhenAll(all);

        Assert.True(errors.IsEmpty, $"{errors.Count} errors, first: {string.Join(" | ", errors.Take(5))}");
        Assert.True(clock.Elapsed >= RunTime);
        // The test only means something if readers and writers really ran at the same time.
        Assert.True(writesCompleted >= 100, $"only {writesCompleted} writes completed");
        Assert.True(readsOverlappingWrites >= 100, $"only {readsOverlappingWrites} of {readsCompleted} reads overlapped a write");
    }

    /// <summary>Pages to the end (bounded), so the newest authorizations — ones no query has seen yet — are read too.</summary>
    private static async Task<List<AuthorizationView>> ListAllPagesAsync(TestServer server, string account, AuthorizationFilter filter)
    {
        var listed = new List<AuthorizationView>();
        string token = "";
        for (int page = 0; page < PagesPerListMax; page++)
        {
            ListAuthorizationsResponse response = await server.Queries.ListAuthorizationsAsync(
                new ListAuthorizationsRequest { AccountId = account, Filter = filter, PageSize = 100, PageToken = token }, Deadline(30));
            listed.AddRange(response.Authorizations);
            token = response.NextPageToken;
            if (token.Length == 0) break;
        }
        return listed;
    }

    private static bool IsAscending(IEnumerable<long> values)
    {
        long previous = long.MinValue;
        foreach (long value in values)
        {
            if (value <= previous) return false;
            previous = value;
        }
        return true;
    }
}
