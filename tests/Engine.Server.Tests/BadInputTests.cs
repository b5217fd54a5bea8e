using Credit.V1;
using Grpc.Core;
using Status = Credit.V1.Status;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>docs/SPEC.md "Bad input gets a clear status naming the problem and changes nothing".</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Malformed_commands_are_invalid_argument_naming_the_field_and_change_nothing()
    {
        string account = await OpenAccountAsync(_server, creditLimit: 1_000);
        AuthorizeResponse baseline = await _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("ok"), AccountId = account, Amount = 100, Currency = "USD" }, Deadline());
        string authorizationId = baseline.AuthorizationId;

        var cases = new (string Field, Func<Task> Call)[]
        {
            ("amount", () => _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("r"), AccountId = account, Amount = 0, Currency = "USD" }, Deadline()).ResponseAsync),
            ("amount", () => _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("r"), AccountId = account, Amount = -5, Currency = "USD" }, Deadline()).ResponseAsync),
            ("request_id", () => _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = "", AccountId = account, Amount = 1, Currency = "USD" }, Deadline()).ResponseAsync),
            ("request_id", () => _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = new string('r', 65), AccountId = account, Amount = 1, Currency = "USD" }, Deadline()).ResponseAsync),
            ("account_id", () => _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("r"), AccountId = "", Amount = 1, Currency = "USD" }, Deadline()).ResponseAsync),
            ("account_id", () => _server.Authorization.RepayAsync(new RepayRequest { RequestId = Id("r"), AccountId = new string('a', 65), Amount = 1 }, Deadline()).ResponseAsync),
            ("currency", () => _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("r"), AccountId = account, Amount = 1, Currency = "usd" }, Deadline()).ResponseAsync),
            ("mcc", () => _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("r"), AccountId = account, Amount = 1, Currency = "USD", Mcc = -1 }, Deadline()).ResponseAsync),
            ("amount", () => _server.Authorization.CaptureAsync(new CaptureRequest { RequestId = Id("r"), AuthorizationId = authorizationId, Amount = 0 }, Deadline()).ResponseAsync),
            ("amount", () => _server.Authorization.VoidAsync(new VoidRequest { RequestId = Id("r"), AuthorizationId = authorizationId, Amount = -1 }, Deadline()).ResponseAsync),
            ("authorization_id", () => _server.Authorization.CaptureAsync(new CaptureRequest { RequestId = Id("r"), AuthorizationId = "", Amount = 1 }, Deadline()).ResponseAsync),
            ("credit_limit", () => _server.Accounts.ChangeLimitAsync(new ChangeLimitRequest { RequestId = Id("r"), AccountId = account, CreditLimit = -1 }, Deadline()).ResponseAsync),
            ("overcapture_percent", () => _server.Accounts.OpenAccountAsync(new OpenAccountRequest { RequestId = Id("r"), AccountId = Id("x"), CustomerId = "c", Currency = "USD", OvercapturePercent = 300 }, Deadline()).ResponseAsync),
            ("controls", () => _server.Accounts.SetSpendingControlsAsync(new SetSpendingControlsRequest { RequestId = Id("r"), AccountId = account }, Deadline()).ResponseAsync),
            ("controls.blocked_mccs", () => _server.Accounts.SetSpendingControlsAsync(new SetSpendingControlsRequest { RequestId = Id("r"), AccountId = account, Controls = new SpendingControls { BlockedMccs = { 7995, 5411 } } }, Deadline()).ResponseAsync),
            ("filter", () => _server.Queries.ListAuthorizationsAsync(new ListAuthorizationsRequest { AccountId = account, Filter = (AuthorizationFilter)99 }, Deadline()).ResponseAsync),
            ("limit", () => _server.Queries.ListEventsAsync(new ListEventsRequest { AccountId = account, Limit = 1_000_000 }, Deadline()).ResponseAsync),
        };
        foreach ((string field, Func<Task> call) in cases)
        {
            RpcException e = await Assert.ThrowsAsync<RpcException>(call);
            AssertInvalidArgument(e, field);
        }

        // Nothing was journaled: the read model, which applies every durable event, is still at the baseline.
        GetAccountResponse after = await _server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = baseline.Sequence }, Deadline());
        Assert.Equal(baseline.Sequence, after.Sequence);
        Assert.Equal((100L, 0L, 900L), (after.Account.Held, after.Account.Posted, after.Account.Available));
    }

    [Fact]
    public async Task Execute_refuses_oversized_empty_and_malformed_batches_without_journaling_them()
    {
        string account = await OpenAccountAsync(_server, creditLimit: 1_000_000);
        GetAccountResponse before = await _server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = 1 }, Deadline());

        var oversized = new ExecuteRequest { BatchId = 1 };
        for (int i = 0; i < 10_001; i++)
            oversized.Commands.Add(new Command { Repay = new RepayRequest { RequestId = Id("r"), AccountId = account, Amount = 1 } });
        AssertInvalidArgument(await ExecuteExpectingErrorAsync(oversized), "commands");

        AssertInvalidArgument(await ExecuteExpectingErrorAsync(new ExecuteRequest { BatchId = 2 }), "commands");

        var unset = new ExecuteRequest { BatchId = 3 };
        unset.Commands.Add(new Command { Repay = new RepayRequest { RequestId = Id("r"), AccountId = account, Amount = 1 } });
        unset.Commands.Add(new Command());
        AssertInvalidArgument(await ExecuteExpectingErrorAsync(unset), "commands[1].command");

        var badAmount = new ExecuteRequest { BatchId = 4 };
        badAmount.Commands.Add(new Command { Repay = new RepayRequest { RequestId = Id("r"), AccountId = account, Amount = 1 } });
        badAmount.Commands.Add(new Command { Authorize = new AuthorizeRequest { RequestId = Id("r"), AccountId = account, Amount = 0, Currency = "USD" } });
        AssertInvalidArgument(await ExecuteExpectingErrorAsync(badAmount), "commands[1].authorize.amount");

        GetAccountResponse after = await _server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account }, Deadline());
        Assert.Equal(before.Sequence, after.Sequence);
        Assert.Equal(before.Account.Posted, after.Account.Posted);
    }

    private async Task<RpcException> ExecuteExpectingErrorAsync(ExecuteRequest request)
    {
        using var call = _server.Pipeline.Execute(Deadline(30));
        await call.RequestStream.WriteAsync(request);
        await call.RequestStream.CompleteAsync();
        return await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
        });
    }
}
