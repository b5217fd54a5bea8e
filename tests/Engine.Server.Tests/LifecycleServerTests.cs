using Credit.V1;
using Grpc.Core;
using Status = Credit.V1.Status;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>The credit lifecycle over gRPC: LifecycleService, Execute, events, and the test clock setting.</summary>
public sealed class LifecycleServerTests
{
    private const long DayMs = 86_400_000;

    [Fact]
    public async Task Advance_clock_is_failed_precondition_unless_test_clocks_are_allowed()
    {
        await using TestServer server = await TestServer.StartAsync();
        var lifecycle = new LifecycleService.LifecycleServiceClient(server.Channel);

        RpcException e = await Assert.ThrowsAsync<RpcException>(() => lifecycle.AdvanceClockAsync(new AdvanceClockRequest { RequestId = Id("clock"), AdvanceMs = DayMs }, Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("Engine:Clock:AllowAdvance", e.Status.Detail);
    }

    [Fact]
    public async Task A_test_clock_takes_an_account_through_a_missed_due_the_automatic_freeze_and_cure()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Engine:Clock:AllowAdvance=true");
        var lifecycle = new LifecycleService.LifecycleServiceClient(server.Channel);
        string account = Id("acct");
        OpenAccountResponse opened = await server.Accounts.OpenAccountAsync(new OpenAccountRequest
        {
            RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 100_000,
            Billing = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = 30 },
        }, Deadline());
        Assert.Equal(Status.Ok, opened.Status);
        Assert.Equal(Status.Ok, (await server.Authorization.ForcePostAsync(new ForcePostRequest { RequestId = Id("post"), AccountId = account, Amount = 10_000 }, Deadline())).Status);

        LifecycleCommandResponse advanced = await lifecycle.AdvanceClockAsync(new AdvanceClockRequest { RequestId = Id("clock"), AdvanceMs = 62 * DayMs }, Deadline());
        Assert.Equal(Status.Ok, advanced.Status);

        // The engine's tick plays the 62 days: reminder, WATCH at 15 days past due, automatic freeze at 30.
        await WaitUntilAsync(async () =>
            (await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 1, Currency = "USD" }, Deadline())).Status == Status.AccountFrozen,
            TimeSpan.FromSeconds(10), "the automatic delinquency freeze");

        // Repayment inside Execute cures: the freeze lifts itself.
        using (var call = server.Pipeline.Execute(Deadline(30)))
        {
            await call.RequestStream.WriteAsync(new ExecuteRequest
            {
                BatchId = 1,
                Commands = { new Command { TopUp = new TopUpRequest { RequestId = Id("top"), AccountId = account, Amount = 10_000, Kind = FundsKind.Prepaid } } },
            });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(Status.Ok, Assert.Single(call.ResponseStream.Current.Replies).Status);
            await call.RequestStream.CompleteAsync();
        }
        AuthorizeResponse after = await server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 1, Currency = "USD" }, Deadline());
        Assert.Equal(Status.Ok, after.Status);

        ListEventsResponse page = null!;
        await WaitUntilAsync(async () =>
        {
            page = await server.Queries.ListEventsAsync(new ListEventsRequest { AccountId = account, Limit = 100, MinSequence = after.Sequence }, Deadline());
            return page.Events.Count > 0 && page.Events[^1].Sequence >= after.Sequence;
        }, TimeSpan.FromSeconds(10), "the read model");
        EventType[] lifecycleTypes = [.. page.Events.Select(e => e.Type).Where(t => t is EventType.DueSoon or EventType.DelinquencyStageChanged or EventType.ToppedUp)];
        Assert.Equal([EventType.DueSoon, EventType.DelinquencyStageChanged, EventType.DelinquencyStageChanged, EventType.ToppedUp], lifecycleTypes);
        LedgerEvent topUp = page.Events.Single(e => e.Type == EventType.ToppedUp);
        Assert.Equal(DelinquencyStage.FrozenDelinquent, topUp.Lifecycle.StageBefore);
        Assert.Equal(DelinquencyStage.Current, topUp.Lifecycle.StageAfter);
        Assert.Equal(10_000, topUp.Lifecycle.DuesPaid);
    }

    [Fact]
    public async Task Get_account_shows_dues_days_past_due_aging_stage_and_freezes_the_same_on_leader_and_replica()
    {
        await using TestServer leader = await TestServer.StartAsync(null, "--Engine:Clock:AllowAdvance=true");
        var lifecycle = new LifecycleService.LifecycleServiceClient(leader.Channel);
        string account = Id("acct");
        await leader.Accounts.OpenAccountAsync(new OpenAccountRequest
        {
            RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 100_000,
            Billing = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = 30 },
        }, Deadline());
        await leader.Authorization.ForcePostAsync(new ForcePostRequest { RequestId = Id("post"), AccountId = account, Amount = 10_000 }, Deadline());
        await lifecycle.TopUpAsync(new TopUpRequest { RequestId = Id("dep"), AccountId = account, Amount = 2_500, Kind = FundsKind.Deposit }, Deadline());
        await leader.Accounts.FreezeAsync(new FreezeRequest { RequestId = Id("frz"), AccountId = account, Reason = "review" }, Deadline());
        LifecycleCommandResponse advanced = await lifecycle.AdvanceClockAsync(new AdvanceClockRequest { RequestId = Id("clock"), AdvanceMs = 50 * DayMs }, Deadline());
        long last = advanced.Sequence + 2; // DUE_SOON and WATCH follow the CLOCK_ADVANCED event

        GetAccountResponse onLeader = await leader.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = last }, Deadline());
        AccountLifecycle view = onLeader.Account.Lifecycle;
        Assert.Equal(BillingMode.Terms, view.Billing.Mode);
        Assert.Equal(DelinquencyStage.Watch, view.Stage);
        Assert.True(view.FrozenManually);
        Assert.False(view.FrozenForDelinquency);
        Assert.Equal(2_500, view.Deposit);
        Assert.Equal(10_000, Assert.Single(view.Dues).Amount);
        Assert.InRange(view.DaysPastDue, 20, 21); // 50 days on from a due 30 days after the posting (21 if midnight passed meanwhile)
        Assert.Equal(10_000, view.PastDue);
        Assert.Equal([0L, 10_000L, 0L, 0L, 0L, 0L], view.Aging);

        using ChildServer replica = await ReplicaTests.StartReplicaAsync(leader.Address);
        GetAccountResponse onReplica = await replica.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = last }, Deadline(60));
        onReplica.Account.Lifecycle.AsOfUnixMs = onLeader.Account.Lifecycle.AsOfUnixMs = 0; // each answers at its own engine time
        Assert.Equal(onLeader.Account, onReplica.Account);
    }

    [Fact]
    public async Task The_collections_worklist_lists_an_accounts_stage_largest_past_due_first_and_drops_it_on_cure()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Engine:Clock:AllowAdvance=true");
        var lifecycle = new LifecycleService.LifecycleServiceClient(server.Channel);
        string prefix = Id("w");
        long[] amounts = [3_000, 9_000, 5_000];
        for (int i = 0; i < amounts.Length; i++)
        {
            await server.Accounts.OpenAccountAsync(new OpenAccountRequest
            {
                RequestId = Id("open"), AccountId = $"{prefix}-{i}", CustomerId = "c", Currency = "USD", CreditLimit = 100_000,
                Billing = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = 30 },
            }, Deadline());
            await server.Authorization.ForcePostAsync(new ForcePostRequest { RequestId = Id("post"), AccountId = $"{prefix}-{i}", Amount = amounts[i] }, Deadline());
        }
        LifecycleCommandResponse advanced = await lifecycle.AdvanceClockAsync(new AdvanceClockRequest { RequestId = Id("clock"), AdvanceMs = 50 * DayMs }, Deadline());
        long last = advanced.Sequence + 2 * amounts.Length; // a reminder and WATCH per account

        ListDelinquentAccountsResponse first = await server.Queries.ListDelinquentAccountsAsync(new ListDelinquentAccountsRequest { Stage = DelinquencyStage.Watch, PageSize = 2, MinSequence = last }, Deadline());
        Assert.Equal([$"{prefix}-1", $"{prefix}-2"], first.Accounts.Select(a => a.AccountId));
        Assert.Equal(9_000, first.Accounts[0].PastDue);
        ListDelinquentAccountsResponse second = await server.Queries.ListDelinquentAccountsAsync(new ListDelinquentAccountsRequest { Stage = DelinquencyStage.Watch, PageSize = 2, PageToken = first.NextPageToken }, Deadline());
        Assert.Equal([$"{prefix}-0"], second.Accounts.Select(a => a.AccountId));
        Assert.Equal("", second.NextPageToken);

        RepayResponse repaid = await server.Authorization.RepayAsync(new RepayRequest { RequestId = Id("pay"), AccountId = $"{prefix}-1", Amount = 9_000 }, Deadline());
        ListDelinquentAccountsResponse after = await server.Queries.ListDelinquentAccountsAsync(new ListDelinquentAccountsRequest { Stage = DelinquencyStage.Watch, MinSequence = repaid.Sequence }, Deadline());
        Assert.Equal([$"{prefix}-2", $"{prefix}-0"], after.Accounts.Select(a => a.AccountId));
        Assert.Empty((await server.Queries.ListDelinquentAccountsAsync(new ListDelinquentAccountsRequest { Stage = DelinquencyStage.FrozenDelinquent }, Deadline())).Accounts);
    }

    [Fact]
    public async Task The_portfolio_totals_follow_every_event_incrementally_and_match_on_a_replica()
    {
        await using TestServer leader = await TestServer.StartAsync(null, "--Engine:Clock:AllowAdvance=true");
        var lifecycle = new LifecycleService.LifecycleServiceClient(leader.Channel);
        string prefix = Id("p");
        for (int i = 0; i < 3; i++)
        {
            await leader.Accounts.OpenAccountAsync(new OpenAccountRequest
            {
                RequestId = Id("open"), AccountId = $"{prefix}-{i}", CustomerId = "c", Currency = "USD", CreditLimit = 100_000,
                Billing = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = 30 },
            }, Deadline());
            await leader.Authorization.ForcePostAsync(new ForcePostRequest { RequestId = Id("post"), AccountId = $"{prefix}-{i}", Amount = 1_000 * (i + 1) }, Deadline());
        }
        await lifecycle.TopUpAsync(new TopUpRequest { RequestId = Id("dep"), AccountId = $"{prefix}-0", Amount = 700, Kind = FundsKind.Deposit }, Deadline());
        await lifecycle.TopUpAsync(new TopUpRequest { RequestId = Id("pre"), AccountId = $"{prefix}-0", Amount = 1_500, Kind = FundsKind.Prepaid }, Deadline()); // 500 credit balance
        LifecycleCommandResponse advanced = await lifecycle.AdvanceClockAsync(new AdvanceClockRequest { RequestId = Id("clock"), AdvanceMs = 50 * DayMs }, Deadline());
        long last = advanced.Sequence + 4; // reminders and WATCH for the two accounts that still owe

        GetPortfolioResponse portfolio = await leader.Queries.GetPortfolioAsync(new GetPortfolioRequest { MinSequence = last }, Deadline());

        Assert.Equal(3, portfolio.ByStatus[0].Accounts);
        Assert.Equal(-500 + 2_000 + 3_000, portfolio.ByStatus[0].Exposure);
        Assert.Equal(1, portfolio.ByStage[0].Accounts);
        Assert.Equal(2, portfolio.ByStage[1].Accounts);
        Assert.Equal(5_000, portfolio.ByStage[1].Exposure);
        Assert.Equal(5_000, portfolio.Receivables);
        Assert.Equal(700, portfolio.Deposits);
        Assert.Equal(500, portfolio.Prepaid);
        Assert.Equal([$"{prefix}-2", $"{prefix}-1"], portfolio.LargestPastDue.Select(a => a.AccountId));
        Assert.Equal(5_000, portfolio.PastDue);

        using ChildServer replica = await ReplicaTests.StartReplicaAsync(leader.Address);
        GetPortfolioResponse onReplica = await replica.Queries.GetPortfolioAsync(new GetPortfolioRequest { MinSequence = last }, Deadline(60));
        Assert.Equal(portfolio, onReplica);
    }

    [Fact]
    public async Task Bad_lifecycle_input_is_invalid_argument_naming_the_field()
    {
        await using TestServer server = await TestServer.StartAsync();
        var lifecycle = new LifecycleService.LifecycleServiceClient(server.Channel);
        string account = await OpenAccountAsync(server, creditLimit: 1_000);

        var cases = new (string Field, Func<Task> Call)[]
        {
            ("billing", () => lifecycle.SetBillingTermsAsync(new SetBillingTermsRequest { RequestId = Id("r"), AccountId = account }, Deadline()).ResponseAsync),
            ("billing.statement_day", () => lifecycle.SetBillingTermsAsync(new SetBillingTermsRequest { RequestId = Id("r"), AccountId = account, Billing = new BillingTerms { Mode = BillingMode.Statement, StatementDay = 31 } }, Deadline()).ResponseAsync),
            ("dues", () => lifecycle.ScheduleDuesAsync(new ScheduleDuesRequest { RequestId = Id("r"), AccountId = account }, Deadline()).ResponseAsync),
            ("kind", () => lifecycle.TopUpAsync(new TopUpRequest { RequestId = Id("r"), AccountId = account, Amount = 1 }, Deadline()).ResponseAsync),
            ("amount", () => lifecycle.PayOutAsync(new PayOutRequest { RequestId = Id("r"), AccountId = account, Amount = 0 }, Deadline()).ResponseAsync),
            ("policy.watch_at_days", () => lifecycle.SetDelinquencyPolicyAsync(new SetDelinquencyPolicyRequest { RequestId = Id("r"), AccountId = account, Policy = new DelinquencyPolicy { WatchAtDays = -1 } }, Deadline()).ResponseAsync),
        };
        foreach ((string field, Func<Task> call) in cases)
        {
            RpcException e = await Assert.ThrowsAsync<RpcException>(call);
            AssertInvalidArgument(e, field);
        }
        LifecycleCommandResponse refused = await lifecycle.ReleaseDepositAsync(new ReleaseDepositRequest { RequestId = Id("r"), AccountId = account, Amount = 1 }, Deadline());
        Assert.Equal(Status.AmountExceedsDeposit, refused.Status);
        Assert.Equal("13", refused.ResponseCode);
    }
}
