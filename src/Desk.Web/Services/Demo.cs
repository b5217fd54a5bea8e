using Credit.V1;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Desk.Web.Services;

/// <summary>
/// --demo: fills an empty desk and engine with a portfolio (customers over regions, industries, salespeople and
/// grades; limits on net terms; purchases and repayments; one in eight paying late on a receivable plan past its date,
/// so the engine's delinquency reaches the worklist and the cockpit) and demo users for every role.
/// Deterministic (seeded), and skipped when the desk already has customers.
/// </summary>
public static class Demo
{
    public const string Password = "demo-password";

    public static readonly (string User, string Roles, string Titles)[] People =
    [
        ("sales1", Roles.Sales, ""), ("sales2", Roles.Sales, ""), ("sales3", Roles.Sales, ""),
        ("finance1", Roles.Finance, ""), ("findirector", Roles.Finance, "finance-director"), ("salesdirector", Roles.Sales, "sales-director"),
        ("ceo", Roles.Manager, "ceo"), ("risk1", Roles.Risk, ""), ("collector1", Roles.Collections, ""), ("manager1", Roles.Manager, ""),
    ];

    private static readonly string[] Regions = ["华东", "华北", "华南", "华中", "西南", "东北"];
    private static readonly string[] Industries = ["制造业", "批发零售", "物流", "建筑", "信息技术", "餐饮"];
    private static readonly string[] Names = ["华盛", "鑫达", "恒通", "永泰", "金源", "宏图", "瑞丰", "天成", "聚力", "博远", "嘉禾", "中联"];
    private static readonly string[] Suffix = ["贸易有限公司", "实业有限公司", "科技股份有限公司", "物流有限公司", "建设集团有限公司"];
    private static readonly string[] Ratings = ["AAA", "AA", "A", "BBB", "BB", "B", "C"];

    public static async Task FillAsync(IServiceProvider services, ILogger log)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
        if (await db.Customers.AnyAsync()) { log.LogInformation("demo: the desk has customers; nothing added"); return; }
        var clock = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        var engine = scope.ServiceProvider.GetRequiredService<EngineGateway>();
        string deskId = await scope.ServiceProvider.GetRequiredService<DeskIdentity>().GetAsync(db);
        var options = scope.ServiceProvider.GetRequiredService<IOptions<DeskOptions>>().Value;
        int count = options.DemoCustomers;
        var now = clock.GetUtcNow();
        foreach (var (user, roles, titles) in People)
        {
            if (await db.Users.AnyAsync(u => u.UserName == user)) continue;
            db.Users.Add(new DeskUser { UserName = user, DisplayName = user, PasswordHash = Passwords.Hash(Password), Roles = roles, Titles = titles, CreatedAt = now });
            Audit.Record(db, "system:demo", "User", user, "create", null, new { roles, titles }, now);
        }
        var tags = new[] { new Tag { Name = "vip", Color = "#c0392b" }, new Tag { Name = "strategic", Color = "#2980b9" }, new Tag { Name = "watch", Color = "#f39c12" } };
        db.Tags.AddRange(tags);
        await db.SaveChangesAsync();

        long[] tagIds = tags.Select(t => t.Id).ToArray();
        var filling = System.Diagnostics.Stopwatch.StartNew();
        int done = 0;
        // Customers are independent: a bounded number are filled at once, each in its own scope (desk rows, engine calls),
        // each from its own seeded random sequence, so the portfolio is the same whatever the concurrency.
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.DemoConcurrency) }, async (i, ct) =>
        {
            using var customerScope = services.CreateScope();
            await FillCustomerAsync(customerScope.ServiceProvider, engine, deskId, i, options.DemoPurchasesMax, tagIds, now, log, ct);
            int filled = Interlocked.Increment(ref done);
            if (filled % 10_000 == 0) log.LogInformation("demo: {Filled} of {Count} customers in {Seconds:F0} s", filled, count, filling.Elapsed.TotalSeconds);
        });
        // Volume for scoring comes from the engine's events through the follower; score once with what is known now,
        // a page of customers per scope so the change tracker stays small.
        const int page = 2_000;
        for (long after = 0; ;)
        {
            using var pageScope = services.CreateScope();
            var pageDb = pageScope.ServiceProvider.GetRequiredService<DeskDb>();
            var pageScoring = pageScope.ServiceProvider.GetRequiredService<ScoringService>();
            var batch = await pageDb.Customers.Include(x => x.Accounts).Where(x => x.Id > after).OrderBy(x => x.Id).Take(page).ToListAsync();
            if (batch.Count == 0) break;
            foreach (var c in batch)
            {
                if (c.Volume12mMinor == 0) c.Volume12mMinor = c.LimitMinor * (2 + c.Id % 10);
                await pageScoring.ScoreAsync(c, "demo", "system:demo", save: false);
            }
            await pageDb.SaveChangesAsync();
            after = batch[^1].Id;
        }
        log.LogInformation("demo: {Count} customers; users {Users} with password '{Password}'", count, string.Join(", ", People.Select(p => p.User)), Password);
        Console.WriteLine($"Demo users ({string.Join(", ", People.Select(p => p.User))}) sign in with the password '{Password}'.");
    }

    /// <summary>One demo customer: the desk's customer and main account, then its purchases, plan and repayment in the engine.</summary>
    private static async Task FillCustomerAsync(IServiceProvider services, EngineGateway engine, string deskId, int i, int purchasesMax, long[] tagIds, DateTimeOffset now, ILogger log, CancellationToken ct)
    {
        var db = services.GetRequiredService<DeskDb>();
        var customers = services.GetRequiredService<CustomerService>();
        var random = new Random(20260301 + i);
        string uscc = DemoUscc(i);
        var c = new Customer
        {
            Uscc = uscc,
            LegalName = $"{Regions[i % Regions.Length][..1]}{Names[random.Next(Names.Length)]}{Suffix[random.Next(Suffix.Length)]}{i:000}",
            Region = Regions[random.Next(Regions.Length)],
            Industry = Industries[random.Next(Industries.Length)],
            OwnerUserName = $"sales{1 + i % 3}",
            Type = (CustomerType)random.Next(0, 3),
            Source = random.Next(2) == 0 ? "referral" : "exhibition",
            CooperationSinceYear = now.Year - random.Next(0, 12),
            ExternalRating = Ratings[random.Next(Ratings.Length)],
            RegisteredCapitalMinor = random.Next(1, 500) * 10_000_00L,
            ContactName = "联系人" + i,
            ContactPhone = $"138{random.Next(10_000_000, 99_999_999)}",
            Stage = LifecycleStage.Active,
        };
        var (created, error) = await customers.CreateAsync(c, "system:demo");
        if (created is null) { log.LogWarning("demo customer {I}: {Error}", i, error); return; }
        if (random.Next(4) == 0) db.CustomerTags.Add(new CustomerTag { CustomerId = created.Id, TagId = tagIds[random.Next(tagIds.Length)] });
        long limit = random.Next(1, 100) * 10_000_00L;
        var (account, openError) = await customers.OpenMainAccountAsync(created, limit, 30 + 15 * random.Next(3), "system:demo", ct);
        if (account is null) { log.LogWarning("demo account {I}: {Error}", i, openError); return; }
        // Late payers (one in eight): their purchases go on a receivable plan due 1-200 days ago instead of net terms,
        // so the engine's own delinquency (DPD, WATCH, freeze) and the desk's cases follow from real dues.
        bool late = random.Next(8) == 0;
        if (late) await SetTermsAsync(engine, $"{deskId}-demo-{uscc}-none", account.AccountId, BillingMode.None, 0);
        // Purchases and repayments: most customers use 20-95 % of their limit and repay part of it.
        int purchases = random.Next(1, purchasesMax + 1);
        long purchased = 0;
        for (int p = 0; p < purchases; p++)
        {
            long amount = limit * random.Next(5, 19) / 100;
            string auth = $"{deskId}-demo-{uscc}-a{p}";
            var authorized = await engine.Client.AuthorizeAsync(new AuthorizeRequest { RequestId = auth, AccountId = account.AccountId, Amount = amount, Currency = "CNY", MerchantId = "demo", Mcc = 5045 }, ct: ct);
            if (!authorized.Approved) break;
            await engine.Client.CaptureAsync(new CaptureRequest { RequestId = auth + "-c", AuthorizationId = auth, Amount = amount, Final = true }, ct: ct);
            purchased += amount;
        }
        if (late && purchased > 0)
        {
            long dueAt = now.AddDays(-random.Next(1, 200)).ToUnixTimeMilliseconds();
            await engine.Lifecycle.ScheduleDuesAsync(new ScheduleDuesRequest { RequestId = $"{deskId}-demo-{uscc}-plan", AccountId = account.AccountId, Dues = { new ScheduledDue { DueAtUnixMs = dueAt, Amount = purchased * random.Next(30, 90) / 100 } } }, cancellationToken: ct);
            await SetTermsAsync(engine, $"{deskId}-demo-{uscc}-terms", account.AccountId, BillingMode.Terms, account.TermsDays);
        }
        if (random.Next(3) > 0)
            await engine.Client.RepayAsync(new RepayRequest { RequestId = $"{deskId}-demo-{uscc}-r", AccountId = account.AccountId, Amount = limit * random.Next(5, 30) / 100 }, ct: ct);
        if (late) created.LatePayments12m = random.Next(1, 4);
        await db.SaveChangesAsync(ct);
    }

    private static Task<LifecycleCommandResponse> SetTermsAsync(EngineGateway engine, string requestId, string accountId, BillingMode mode, int termsDays) =>
        engine.Lifecycle.SetBillingTermsAsync(new SetBillingTermsRequest { RequestId = requestId, AccountId = accountId, Billing = new BillingTerms { Mode = mode, PaymentTermsDays = termsDays } }).ResponseAsync;

    /// <summary>A valid, obviously synthetic USCC per index: 91 + division 110000 + 9 digits + check.</summary>
    public static string DemoUscc(int i)
    {
        string first17 = $"91110000{i:000000000}";
        return first17 + Uscc.CheckCharacter(first17);
    }
}
