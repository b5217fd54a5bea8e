using System.Security.Claims;
using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Api;

/// <summary>Customer as the API shows it; score, grade and external rating only for roles that may see credit reports.</summary>
public sealed record CustomerDto(long Id, string Uscc, string LegalName, string? TaxId, string? RegisteredAddress, string? ContactName, string? ContactPhone,
    string? ContactEmail, string? Industry, decimal RegisteredCapital, string? Source, string? Region, string? Owner, string Stage, string Type, string Currency,
    int? CooperationSinceYear, string? ExternalRating, int? Score, string? Grade, IReadOnlyList<string> Tags);

/// <summary>Create or update a customer. Amounts in major units.</summary>
public sealed record CustomerInput(string Uscc, string LegalName, string? TaxId, string? RegisteredAddress, string? ContactName, string? ContactPhone,
    string? ContactEmail, string? Industry, decimal? RegisteredCapital, string? Source, string? Region, string? Owner, string? Stage, string? Type,
    string? Currency, int? CooperationSinceYear, string? ExternalRating);

/// <summary>Credit status from the engine (live, read-your-writes) and the desk (grade, DPD). Amounts in major units.</summary>
public sealed record CreditStatusDto(long CustomerId, string? Grade, int DpdDays, IReadOnlyList<AccountStatusDto> Accounts);

public sealed record AccountStatusDto(string AccountId, string Currency, decimal Limit, decimal TemporaryLimit, decimal Available, decimal Held, decimal Posted, string Status, string? Error);

public sealed record ApplicationInput(long CustomerId, string Kind, decimal? Amount, DateTimeOffset? TemporaryExpiresAt, int? TermsDays, string Reason);

public sealed record DecisionInput(string Action, string Opinion);

public sealed record ApplicationDto(long Id, long CustomerId, string Kind, string Status, decimal Amount, string Currency, string SubmittedBy, int CurrentStep,
    IReadOnlyList<string> Steps, int? Score, string? Grade, decimal? SuggestedLimit, string WriteBack, string? EngineRequestId, string? EngineStatus,
    long? EngineSequence, bool? EngineReplayed, int WriteBackAttempts, string? WriteBackLastError);

public sealed record ErrorDto(string Error);

public static class DeskApi
{
    private static decimal Major(long minor) => minor / (decimal)Money.MinorPerMajor;

    public static CustomerDto ToDto(Customer c, ClaimsPrincipal user)
    {
        bool reports = user.Can(Permission.CreditReportsRead);
        return new CustomerDto(c.Id, c.Uscc, c.LegalName, c.TaxId, c.RegisteredAddress, c.ContactName, c.ContactPhone, c.ContactEmail, c.Industry,
            Major(c.RegisteredCapitalMinor), c.Source, c.Region, c.OwnerUserName, c.Stage.ToString(), c.Type.ToString(), c.Currency, c.CooperationSinceYear,
            reports ? c.ExternalRating : null, reports ? c.Score : null, reports ? c.Grade : null, c.Tags.Select(t => t.Tag?.Name ?? "").ToList());
    }

    public static ApplicationDto ToDto(CreditApplication a) => new(a.Id, a.CustomerId, a.Kind.ToString(), a.Status.ToString(), Major(a.AmountMinor), a.Currency,
        a.SubmittedBy, a.CurrentStepIndex, a.Steps.OrderBy(s => s.Index).Select(s => $"{s.Name}:{s.Status}").ToList(), a.Score, a.Grade,
        a.SuggestedLimitMinor is long s ? Major(s) : null, a.WriteBack.ToString(), a.EngineRequestId, a.EngineStatus, a.EngineSequence, a.EngineReplayed,
        a.WriteBackAttempts, a.WriteBackLastError);

    public static (Customer? Customer, string? Error) FromInput(CustomerInput i)
    {
        var c = new Customer
        {
            Uscc = i.Uscc ?? "", LegalName = (i.LegalName ?? "").Trim(), TaxId = i.TaxId, RegisteredAddress = i.RegisteredAddress, ContactName = i.ContactName,
            ContactPhone = i.ContactPhone, ContactEmail = i.ContactEmail, Industry = i.Industry, Source = i.Source, Region = i.Region, OwnerUserName = i.Owner,
            CooperationSinceYear = i.CooperationSinceYear, ExternalRating = i.ExternalRating, Currency = (i.Currency ?? "CNY").ToUpperInvariant(),
        };
        if (i.RegisteredCapital is decimal cap)
        {
            if (cap < 0 || decimal.Round(cap, 2) != cap) return (null, "registered_capital: a non-negative amount with at most two decimals");
            c.RegisteredCapitalMinor = (long)(cap * Money.MinorPerMajor);
        }
        if (i.Stage is { Length: > 0 } stage)
        {
            if (!Enum.TryParse(stage, true, out LifecycleStage s)) return (null, $"stage: one of {string.Join(", ", Enum.GetNames<LifecycleStage>())}");
            c.Stage = s;
        }
        if (i.Type is { Length: > 0 } type)
        {
            if (!Enum.TryParse(type, true, out CustomerType t)) return (null, $"type: one of {string.Join(", ", Enum.GetNames<CustomerType>())}");
            c.Type = t;
        }
        return (c, null);
    }

    public static void MapDeskApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/v1").WithTags("desk");

        api.MapGet("/customers", async (ClaimsPrincipal user, CustomerService customers, string? search, int? page) =>
        {
            int p = Math.Max(1, page ?? 1);
            var q = customers.Visible(user).AsNoTracking();
            if (!string.IsNullOrWhiteSpace(search)) q = q.Where(c => c.LegalName.Contains(search) || c.Uscc.StartsWith(search.ToUpper()));
            var list = await q.OrderBy(c => c.Id).Skip((p - 1) * 100).Take(100).Include(c => c.Tags).ThenInclude(t => t.Tag).ToListAsync();
            return list.Select(c => ToDto(c, user)).ToList();
        }).RequireAuthorization(nameof(Permission.CustomersRead)).WithSummary("Customers visible to the caller, 100 per page, by id");

        api.MapGet("/customers/{id:long}", async Task<Results<Ok<CustomerDto>, NotFound>> (long id, ClaimsPrincipal user, CustomerService customers) =>
        {
            var c = await customers.Visible(user).AsNoTracking().Include(x => x.Tags).ThenInclude(t => t.Tag).FirstOrDefaultAsync(x => x.Id == id);
            return c is null ? TypedResults.NotFound() : TypedResults.Ok(ToDto(c, user));
        }).RequireAuthorization(nameof(Permission.CustomersRead));

        api.MapPost("/customers", async Task<Results<Created<CustomerDto>, BadRequest<ErrorDto>>> (CustomerInput input, ClaimsPrincipal user, CustomerService customers) =>
        {
            var (c, error) = FromInput(input);
            if (c is null) return TypedResults.BadRequest(new ErrorDto(error!));
            if (!user.Can(Permission.CustomersReadAll)) c.OwnerUserName = user.Name(); // sales create customers they own
            var (created, createError) = await customers.CreateAsync(c, user.AuditName());
            return created is null ? TypedResults.BadRequest(new ErrorDto(createError!)) : TypedResults.Created($"/api/v1/customers/{created.Id}", ToDto(created, user));
        }).RequireAuthorization(nameof(Permission.CustomersWrite));

        api.MapPut("/customers/{id:long}", async Task<Results<Ok<CustomerDto>, NotFound, BadRequest<ErrorDto>>> (long id, CustomerInput input, ClaimsPrincipal user, CustomerService customers) =>
        {
            var existing = await customers.Visible(user).Include(x => x.Accounts).Include(x => x.Tags).ThenInclude(t => t.Tag).FirstOrDefaultAsync(x => x.Id == id);
            if (existing is null) return TypedResults.NotFound();
            var (c, error) = FromInput(input);
            if (c is null) return TypedResults.BadRequest(new ErrorDto(error!));
            if (input.Stage is null) c.Stage = existing.Stage;
            if (!user.Can(Permission.CustomersReadAll)) c.OwnerUserName = existing.OwnerUserName;
            if (!user.Can(Permission.CreditReportsRead)) c.ExternalRating = existing.ExternalRating; // cannot write what one may not see
            string? updateError = await customers.UpdateAsync(existing, c, user.AuditName());
            return updateError is null ? TypedResults.Ok(ToDto(existing, user)) : TypedResults.BadRequest(new ErrorDto(updateError));
        }).RequireAuthorization(nameof(Permission.CustomersWrite));

        api.MapGet("/customers/{id:long}/credit", async Task<Results<Ok<CreditStatusDto>, NotFound>> (long id, ClaimsPrincipal user, CustomerService customers, DeskDb db, EngineGateway engine) =>
        {
            var c = await customers.Visible(user).AsNoTracking().Include(x => x.Accounts).FirstOrDefaultAsync(x => x.Id == id);
            if (c is null) return TypedResults.NotFound();
            var accounts = new List<AccountStatusDto>();
            foreach (var a in c.Accounts)
            {
                long minSequence = await MinSequenceAsync(db, a);
                var (live, error) = await engine.GetAccountAsync(a.AccountId, minSequence);
                accounts.Add(live is null
                    ? new AccountStatusDto(a.AccountId, a.Currency, 0, 0, 0, 0, 0, "UNKNOWN", error)
                    : new AccountStatusDto(a.AccountId, live.Currency, Major(live.CreditLimit), Major(live.TemporaryLimitActive ? live.TemporaryLimit : 0),
                        Major(live.Available), Major(live.Held), Major(live.Posted), live.Status.ToString(), null));
            }
            bool reports = user.Can(Permission.CreditReportsRead);
            return TypedResults.Ok(new CreditStatusDto(c.Id, reports ? c.Grade : null, c.DpdDays, accounts));
        }).RequireAuthorization(nameof(Permission.CustomersRead)).WithSummary("Live limits and balances from the engine, grade and DPD");

        api.MapPost("/applications", async Task<Results<Created<ApplicationDto>, BadRequest<ErrorDto>>> (ApplicationInput input, ClaimsPrincipal user, ApplicationService apps) =>
        {
            if (!Enum.TryParse(input.Kind, true, out ApplicationKind kind)) return TypedResults.BadRequest(new ErrorDto($"kind: one of {string.Join(", ", Enum.GetNames<ApplicationKind>())}"));
            long amount = 0;
            if (input.Amount is decimal a)
            {
                if (a < 0 || decimal.Round(a, 2) != a) return TypedResults.BadRequest(new ErrorDto("amount: a non-negative amount with at most two decimals"));
                amount = (long)(a * Money.MinorPerMajor);
            }
            var (created, error) = await apps.SubmitAsync(user, new SubmitRequest(input.CustomerId, kind, amount, input.TemporaryExpiresAt, input.TermsDays, input.Reason ?? ""));
            return created is null ? TypedResults.BadRequest(new ErrorDto(error!)) : TypedResults.Created($"/api/v1/applications/{created.Id}", ToDto(created));
        }).RequireAuthorization(nameof(Permission.ApplicationsSubmit));

        api.MapGet("/applications/{id:long}", async Task<Results<Ok<ApplicationDto>, NotFound>> (long id, ClaimsPrincipal user, ApplicationService apps, CustomerService customers) =>
        {
            var a = await apps.LoadAsync(id);
            if (a is null || !await customers.Visible(user).AnyAsync(c => c.Id == a.CustomerId)) return TypedResults.NotFound();
            return TypedResults.Ok(ToDto(a));
        }).RequireAuthorization(nameof(Permission.CustomersRead));

        api.MapPost("/applications/{id:long}/decisions", async Task<Results<Ok<ApplicationDto>, BadRequest<ErrorDto>, ForbidHttpResult>> (long id, DecisionInput input, ClaimsPrincipal user, ApplicationService apps) =>
        {
            if (!Enum.TryParse(input.Action, true, out DecisionAction action)) return TypedResults.BadRequest(new ErrorDto("action: one of Approve, Reject, Return"));
            var result = await apps.DecideAsync(user, id, action, input.Opinion ?? "");
            if (result.Error is not null) return TypedResults.BadRequest(new ErrorDto(result.Error));
            return TypedResults.Ok(ToDto((await apps.LoadAsync(id))!));
        }).RequireAuthorization(nameof(Permission.CustomersRead)).WithSummary("Approve, reject or return; only people the active step names may decide");

        api.MapGet("/audit", async (DeskDb db, string entityType, string entityId) =>
            await db.Audit.AsNoTracking().Where(a => a.EntityType == entityType && a.EntityId == entityId).OrderBy(a => a.Id).ToListAsync())
            .RequireAuthorization(nameof(Permission.AuditRead));
    }

    /// <summary>Read-your-writes: the newest engine sequence the desk itself caused on this account.</summary>
    public static async Task<long> MinSequenceAsync(DeskDb db, EngineAccount a)
    {
        long writes = await db.Applications.Where(x => x.AccountId == a.AccountId && x.EngineSequence != null).MaxAsync(x => x.EngineSequence) ?? 0;
        return Math.Max(a.OpenedSequence, writes);
    }
}
