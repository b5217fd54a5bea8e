using Credit.V1;
using Status = Credit.V1.Status;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>
/// GetPortfolio's aging and monthly flows (docs/LIFECYCLE.md "What queries must show"), driven by a test clock, checked
/// against figures computed here from the dues and events, and kept across a restart by the read-model snapshot.
/// </summary>
public sealed class PortfolioTests
{
    private const long DayMs = 86_400_000;

    [Fact]
    public async Task Aging_and_monthly_flows_follow_the_dues_and_survive_a_restart()
    {
        string data = TestServer.NewDataDirectory();
        string account = Id("acct");
        GetPortfolioResponse before;
        long dueAt, onTimeAt, lateAt;
        await using (TestServer server = await TestServer.StartAsync(data, "--Engine:Clock:AllowAdvance=true"))
        {
            var lifecycle = new LifecycleService.LifecycleServiceClient(server.Channel);
            Assert.Equal(Status.Ok, (await server.Accounts.OpenAccountAsync(new OpenAccountRequest
            {
                RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 100_000,
                Billing = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = 30 },
            }, Deadline())).Status);
            Assert.Equal(Status.Ok, (await server.Authorization.ForcePostAsync(new ForcePostRequest { RequestId = Id("post"), AccountId = account, Amount = 10_000 }, Deadline())).Status);
            await lifecycle.AdvanceClockAsync(new AdvanceClockRequest { RequestId = Id("clock"), AdvanceMs = 10 * DayMs }, Deadline());
            RepayResponse onTime = await server.Authorization.RepayAsync(new RepayRequest { RequestId = Id("repay"), AccountId = account, Amount = 4_000 }, Deadline());
            // 45 days after the posting: the due (day 30) fell past due with 6,000 unpaid, now 15 days past due.
            await lifecycle.AdvanceClockAsync(new AdvanceClockRequest { RequestId = Id("clock"), AdvanceMs = 35 * DayMs }, Deadline());
            RepayResponse late = await server.Authorization.RepayAsync(new RepayRequest { RequestId = Id("repay"), AccountId = account, Amount = 1_000 }, Deadline());

            GetAccountResponse view = await server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = late.Sequence }, Deadline());
            dueAt = Assert.Single(view.Account.Lifecycle.Dues).DueAtUnixMs;
            ListEventsResponse repaid = await server.Queries.ListEventsAsync(new ListEventsRequest { AccountId = account, MinSequence = late.Sequence, EventTypes = { EventType.Repaid } }, Deadline());
            onTimeAt = repaid.Events.Single(e => e.Sequence == onTime.Sequence).TimestampUnixMs;
            lateAt = repaid.Events.Single(e => e.Sequence == late.Sequence).TimestampUnixMs;

            before = await server.Queries.GetPortfolioAsync(new GetPortfolioRequest { MinSequence = late.Sequence }, Deadline());
        }

        Assert.Equal(5_000, before.Receivables);
        Assert.Equal([0L, 5_000L, 0L, 0L, 0L, 0L], before.Aging);
        Assert.Equal(5_000, before.PastDue);
        Assert.Equal(24, before.Months.Count);
        var expected = new Dictionary<(int, int), (long Repaid, long NewPastDue)>();
        void Add((int, int) month, long repaidMinor, long newPastDue)
        {
            expected.TryGetValue(month, out var sum);
            expected[month] = (sum.Repaid + repaidMinor, sum.NewPastDue + newPastDue);
        }
        Add(MonthOf(onTimeAt), 4_000, 0);
        Add(MonthOf(lateAt), 1_000, 0);
        // Past due from the day after its due day; the late 1,000 does not lower what fell due unpaid.
        Add(MonthOf(dueAt + DayMs), 0, 6_000);
        foreach (PortfolioMonth month in before.Months)
        {
            expected.TryGetValue((month.Year, month.Month), out var want);
            Assert.Equal((want.Repaid, want.NewPastDue), (month.Repaid, month.NewPastDue));
        }
        Assert.Equal((MonthOf(lateAt).Year, MonthOf(lateAt).Month), (before.Months[^1].Year, before.Months[^1].Month));

        // Flows are history: the read-model snapshot written at shutdown carries them, so a restart shows the same.
        await using TestServer restarted = await TestServer.StartAsync(data, "--Engine:Clock:AllowAdvance=true");
        GetPortfolioResponse after = await restarted.Queries.GetPortfolioAsync(new GetPortfolioRequest { MinSequence = before.Sequence }, Deadline());
        Assert.Equal(before.Months, after.Months);
        Assert.Equal(before.Aging, after.Aging);
    }

    private static (int Year, int Month) MonthOf(long unixMs)
    {
        DateTime date = DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime;
        return (date.Year, date.Month);
    }

    [Fact]
    public async Task The_worklist_of_an_aging_bucket_holds_the_accounts_whose_days_past_due_fall_in_it_largest_first()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Engine:Clock:AllowAdvance=true");
        var lifecycle = new LifecycleService.LifecycleServiceClient(server.Channel);
        string prefix = Id("b");
        async Task PostAsync(string name, long amount)
        {
            await server.Accounts.OpenAccountAsync(new OpenAccountRequest
            {
                RequestId = Id("open"), AccountId = $"{prefix}-{name}", CustomerId = name, Currency = "USD", CreditLimit = 100_000,
                Billing = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = 30 },
            }, Deadline());
            Assert.Equal(Status.Ok, (await server.Authorization.ForcePostAsync(new ForcePostRequest { RequestId = Id("post"), AccountId = $"{prefix}-{name}", Amount = amount }, Deadline())).Status);
        }
        await PostAsync("a", 1_000);
        await PostAsync("d", 5_000);
        await lifecycle.AdvanceClockAsync(new AdvanceClockRequest { RequestId = Id("clock"), AdvanceMs = 40 * DayMs }, Deadline());
        await PostAsync("b", 2_000);
        await lifecycle.AdvanceClockAsync(new AdvanceClockRequest { RequestId = Id("clock"), AdvanceMs = 40 * DayMs }, Deadline());
        await PostAsync("c", 3_000);
        LifecycleCommandResponse last = await lifecycle.AdvanceClockAsync(new AdvanceClockRequest { RequestId = Id("clock"), AdvanceMs = 1 }, Deadline());
        // Day 80: a and d are 50 days past due (31-60), b 10 days (1-30), c not yet due.

        async Task<(List<string> Ids, string Next)> PageAsync(AgingBucket bucket, int size, string token = "")
        {
            ListDelinquentAccountsResponse page = await server.Queries.ListDelinquentAccountsAsync(new ListDelinquentAccountsRequest
            {
                Bucket = bucket, PageSize = size, PageToken = token, MinSequence = last.Sequence,
            }, Deadline());
            return (page.Accounts.Select(a => a.AccountId[(prefix.Length + 1)..]).ToList(), page.NextPageToken);
        }

        (List<string> first, string next) = await PageAsync(AgingBucket.Days31To60, 1);
        Assert.Equal(["d"], first);
        (List<string> second, string end) = await PageAsync(AgingBucket.Days31To60, 1, next);
        Assert.Equal(["a"], second);
        Assert.Equal("", end);
        Assert.Equal(["b"], (await PageAsync(AgingBucket.Days1To30, 10)).Ids);
        Assert.Empty((await PageAsync(AgingBucket.Days61To90, 10)).Ids);

        ListDelinquentAccountsResponse b = await server.Queries.ListDelinquentAccountsAsync(new ListDelinquentAccountsRequest { Bucket = AgingBucket.Days1To30, MinSequence = last.Sequence }, Deadline());
        DelinquentAccount row = Assert.Single(b.Accounts);
        Assert.Equal(10, row.DaysPastDue);
        Assert.Equal(2_000, row.PastDue);

        var both = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() => server.Queries.ListDelinquentAccountsAsync(new ListDelinquentAccountsRequest
        {
            Bucket = AgingBucket.Days1To30, Stage = DelinquencyStage.Watch,
        }, Deadline()).ResponseAsync);
        AssertInvalidArgument(both, "bucket");
    }
}
