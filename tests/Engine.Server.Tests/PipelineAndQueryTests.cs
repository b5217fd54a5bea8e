using Credit.V1;
using Grpc.Core;
using Status = Credit.V1.Status;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>Execute (batches, replies in order) and the read-model queries (read-your-writes with min_sequence).</summary>
public sealed class PipelineAndQueryTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Execute_answers_every_batch_in_order_with_one_reply_per_command()
    {
        string account = await OpenAccountAsync(_server, creditLimit: 1_000);
        using var call = _server.Pipeline.Execute(Deadline(30));
        const int batches = 20, perBatch = 50;
        var sentAuthorizations = new List<string>();
        var reader = Task.Run(async () =>
        {
            var responses = new List<ExecuteResponse>();
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) responses.Add(call.ResponseStream.Current);
            return responses;
        });
        for (int b = 0; b < batches; b++)
        {
            var request = new ExecuteRequest { BatchId = (ulong)b };
            for (int i = 0; i < perBatch; i++)
            {
                string id = Id("auth");
                sentAuthorizations.Add(id);
                request.Commands.Add(new Command { Authorize = new AuthorizeRequest { RequestId = id, AccountId = account, Amount = 1, Currency = "USD" } });
            }
            await call.RequestStream.WriteAsync(request);
        }
        await call.RequestStream.CompleteAsync();
        List<ExecuteResponse> all = await reader;

        Assert.Equal(Enumerable.Range(0, batches).Select(b => (ulong)b), all.Select(r => r.BatchId));
        List<CommandReply> replies = [.. all.SelectMany(r => r.Replies)];
        Assert.Equal(batches * perBatch, replies.Count);
        Assert.All(replies, reply => Assert.Equal(Status.Ok, reply.Status));
        Assert.Equal(sentAuthorizations, replies.Select(r => r.AuthorizationId));
        // In order: each reply's sequence follows the previous one and holds grow by one.
        for (int i = 1; i < replies.Count; i++)
        {
            Assert.True(replies[i].Sequence > replies[i - 1].Sequence);
            Assert.Equal(replies[i - 1].Held + 1, replies[i].Held);
        }
    }

    [Fact]
    public async Task GetAccount_with_min_sequence_reads_your_write_and_a_future_sequence_hits_the_deadline()
    {
        string account = await OpenAccountAsync(_server, creditLimit: 5_000);
        var temporaryUntil = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();
        await _server.Accounts.SetTemporaryLimitAsync(new SetTemporaryLimitRequest { RequestId = Id("t"), AccountId = account, Amount = 1_000, ExpiresAtUnixMs = temporaryUntil }, Deadline());
        AuthorizeResponse authorized = await _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("a"), AccountId = account, Amount = 700, Currency = "USD" }, Deadline());

        GetAccountResponse read = await _server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = authorized.Sequence }, Deadline());
        Assert.True(read.Sequence >= authorized.Sequence);
        Credit.V1.Account a = read.Account;
        Assert.Equal((5_000L, 1_000L, temporaryUntil, true), (a.CreditLimit, a.TemporaryLimit, a.TemporaryLimitExpiresAtUnixMs, a.TemporaryLimitActive));
        Assert.Equal((700L, 0L, 5_300L, 1, AccountStatus.Active, "USD"), (a.Held, a.Posted, a.Available, a.OpenAuthorizationCount, a.Status, a.Currency));

        var e = await Assert.ThrowsAsync<RpcException>(() =>
            _server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = authorized.Sequence + 1_000 }, Deadline(0.5)).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);

        var missing = await Assert.ThrowsAsync<RpcException>(() => _server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = Id("nobody") }, Deadline()).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task ListAuthorizations_pages_open_and_all_and_ListEvents_pages_the_history()
    {
        string account = await OpenAccountAsync(_server, creditLimit: 100_000);
        var ids = new List<string>();
        long last = 0;
        for (int i = 0; i < 7; i++)
        {
            string id = Id("auth");
            ids.Add(id);
            last = (await _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = id, AccountId = account, Amount = 10 + i, Currency = "USD" }, Deadline())).Sequence;
        }
        last = (await _server.Authorization.VoidAsync(new VoidRequest { RequestId = Id("v"), AuthorizationId = ids[0] }, Deadline())).Sequence;

        var open = new List<AuthorizationView>();
        string token = "";
        do
        {
            ListAuthorizationsResponse page = await _server.Queries.ListAuthorizationsAsync(new ListAuthorizationsRequest { AccountId = account, PageSize = 2, PageToken = token, MinSequence = last }, Deadline());
            Assert.True(page.Authorizations.Count <= 2);
            open.AddRange(page.Authorizations);
            token = page.NextPageToken;
        } while (token.Length > 0);
        Assert.Equal(ids.Skip(1), open.Select(a => a.AuthorizationId));
        Assert.All(open, a => Assert.Equal(AuthorizationState.Open, a.State));

        ListAuthorizationsResponse all = await _server.Queries.ListAuthorizationsAsync(new ListAuthorizationsRequest { AccountId = account, Filter = AuthorizationFilter.All }, Deadline());
        Assert.Equal(ids, all.Authorizations.Select(a => a.AuthorizationId));
        Assert.Equal(AuthorizationState.Voided, all.Authorizations[0].State);

        var events = new List<LedgerEvent>();
        long from = 0;
        do
        {
            ListEventsResponse page = await _server.Queries.ListEventsAsync(new ListEventsRequest { AccountId = account, FromSequence = from, Limit = 3 }, Deadline());
            events.AddRange(page.Events);
            from = page.NextFromSequence;
        } while (from > 0);
        Assert.Equal(9, events.Count); // opened, 7 authorized, voided
        Assert.Equal(EventType.AccountOpened, events[0].Type);
        Assert.Equal(EventType.Voided, events[^1].Type);
        Assert.Equal(last, events[^1].Sequence);
    }
}
