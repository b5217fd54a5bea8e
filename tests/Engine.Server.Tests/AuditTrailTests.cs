using Credit.V1;
using Grpc.Core;
using Status = Credit.V1.Status;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>
/// The audit trail over gRPC (issue #14 item 4): account administration records its principal in the event
/// (<c>actor</c>), Subscribe and ListEvents show it, and ListEvents filters by event type so "who changed this
/// account's limit, when, from what to what" is one query.
/// </summary>
public sealed class AuditTrailTests
{
    [Fact]
    public async Task Who_changed_the_limit_when_from_what_to_what_is_one_filtered_ListEvents_query()
    {
        await using TestServer server = await TestServer.StartAsync();
        string account = await OpenAccountAsync(server, 1_000);
        for (int i = 0; i < 5; i++)
            Assert.Equal(Status.Ok, (await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 10, Currency = "USD" }, Deadline())).Status);
        Assert.Equal(Status.Ok, (await server.Accounts.ChangeLimitAsync(new ChangeLimitRequest { RequestId = Id("raise"), AccountId = account, CreditLimit = 5_000 }, Deadline())).Status);
        ChangeLimitResponse lowered = await server.Accounts.ChangeLimitAsync(new ChangeLimitRequest { RequestId = Id("lower"), AccountId = account, CreditLimit = 2_000 }, Deadline());

        ListEventsResponse page = await server.Queries.ListEventsAsync(new ListEventsRequest
        {
            AccountId = account, MinSequence = lowered.Sequence, EventTypes = { EventType.AccountOpened, EventType.LimitChanged },
        }, Deadline());

        Assert.Equal([EventType.AccountOpened, EventType.LimitChanged, EventType.LimitChanged], page.Events.Select(e => e.Type));
        Assert.Equal([1_000L, 5_000L, 2_000L], page.Events.Select(e => e.Amount));
        LedgerEvent raise = page.Events[1], lower = page.Events[2];
        Assert.Equal(1_000, raise.PreviousAmount);
        Assert.Equal(5_000, lower.PreviousAmount);
        Assert.True(lower.TimestampUnixMs >= raise.TimestampUnixMs);
        // Open loopback mode: nobody authenticated, and the trail says so rather than leaving it blank.
        Assert.All(page.Events, e => Assert.Equal("anonymous", e.Actor));
        Assert.Equal(0, page.NextFromSequence);
    }

    [Fact]
    public async Task Authorization_path_events_carry_no_actor_and_no_previous_amount()
    {
        await using TestServer server = await TestServer.StartAsync();
        string account = await OpenAccountAsync(server, 1_000);
        AuthorizeResponse authorized = await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 10, Currency = "USD" }, Deadline());

        ListEventsResponse page = await server.Queries.ListEventsAsync(new ListEventsRequest { AccountId = account, MinSequence = authorized.Sequence, EventTypes = { EventType.Authorized } }, Deadline());

        LedgerEvent e = Assert.Single(page.Events);
        Assert.Equal("", e.Actor);
        Assert.False(e.HasPreviousAmount);
    }

    [Fact]
    public async Task Subscribe_shows_the_actor_of_administration_sent_in_an_Execute_batch()
    {
        await using TestServer server = await TestServer.StartAsync();
        string account = Id("acct");
        using (var call = server.Pipeline.Execute(Deadline(30)))
        {
            await call.RequestStream.WriteAsync(new ExecuteRequest
            {
                BatchId = 1,
                Commands =
                {
                    new Command { OpenAccount = new OpenAccountRequest { RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 100 } },
                    new Command { Freeze = new FreezeRequest { RequestId = Id("freeze"), AccountId = account, Reason = "fraud review" } },
                },
            });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.All(call.ResponseStream.Current.Replies, r => Assert.Equal(Status.Ok, r.Status));
            await call.RequestStream.CompleteAsync();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var stream = server.Events.Subscribe(new SubscribeRequest { FromSequence = 0 }, cancellationToken: cts.Token);
        LedgerEvent? frozen = null;
        while (frozen is null && await stream.ResponseStream.MoveNext(cts.Token))
            frozen = stream.ResponseStream.Current.Events.FirstOrDefault(e => e.Type == EventType.AccountFrozen && e.AccountId == account);

        Assert.NotNull(frozen);
        Assert.Equal("anonymous", frozen!.Actor);
        Assert.Equal("fraud review", frozen.Reason);
    }

    [Fact]
    public async Task A_filtered_page_reads_a_bounded_share_of_the_log_and_says_where_to_go_on()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--ReadModel:PageSizeMax=10", "--ReadModel:PageSizeDefault=10", "--ReadModel:ScannedEventsPerPageMax=10");
        string account = await OpenAccountAsync(server, 100_000);
        for (int i = 0; i < 35; i++)
            Assert.Equal(Status.Ok, (await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 1, Currency = "USD" }, Deadline())).Status);
        ChangeLimitResponse changed = await server.Accounts.ChangeLimitAsync(new ChangeLimitRequest { RequestId = Id("raise"), AccountId = account, CreditLimit = 200_000 }, Deadline());

        var found = new List<LedgerEvent>();
        int pages = 0;
        long from = 0;
        do
        {
            ListEventsResponse page = await server.Queries.ListEventsAsync(new ListEventsRequest
            {
                AccountId = account, FromSequence = from, MinSequence = changed.Sequence, EventTypes = { EventType.LimitChanged },
            }, Deadline());
            Assert.InRange(page.Events.Count, 0, 10);
            found.AddRange(page.Events);
            from = page.NextFromSequence;
            pages++;
        } while (from != 0 && pages < 100);

        // 37 events of the account, at most 10 read per page: the one limit change is found after several pages.
        Assert.Equal(changed.Sequence, Assert.Single(found).Sequence);
        Assert.InRange(pages, 4, 5);
    }

    [Fact]
    public async Task An_unknown_event_type_in_the_filter_is_invalid_argument_naming_its_index()
    {
        await using TestServer server = await TestServer.StartAsync();
        string account = await OpenAccountAsync(server, 1_000);

        RpcException e = await Assert.ThrowsAsync<RpcException>(() => server.Queries.ListEventsAsync(new ListEventsRequest
        {
            AccountId = account, EventTypes = { EventType.LimitChanged, (EventType)999 },
        }, Deadline()).ResponseAsync);

        AssertInvalidArgument(e, "event_types[1]");
    }
}
