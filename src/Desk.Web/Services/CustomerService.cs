using System.Security.Claims;
using Credit.V1;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Services;

public sealed record ImportResult(int Created, int Updated, int Unchanged, int AccountsOpened, IReadOnlyList<string> EngineErrors);

/// <summary>Customers: visibility (sales see their own), create/update with audit, opening engine accounts, import.</summary>
public sealed class CustomerService(DeskDb db, EngineGateway engine, DeskIdentity identity, TimeProvider clock, ILogger<CustomerService> log)
{
    /// <summary>Customers this user may see: all for roles with CustomersReadAll, else those they own.</summary>
    public IQueryable<Customer> Visible(ClaimsPrincipal user)
    {
        IQueryable<Customer> q = db.Customers;
        if (!user.Can(Permission.CustomersReadAll))
        {
            string name = user.Name();
            q = q.Where(c => c.OwnerUserName == name);
        }
        return q;
    }

    public static string? ValidateProfile(Customer c)
    {
        if (Uscc.Validate(c.Uscc) is { } e) return "uscc: " + e;
        if (string.IsNullOrWhiteSpace(c.LegalName)) return "legal_name: is required";
        if (c.LegalName.Length > 200) return "legal_name: at most 200 characters";
        if (!Money.Currencies.Contains(c.Currency)) return $"currency: one of {string.Join(", ", Money.Currencies)}";
        if (c.ContactEmail is { Length: > 0 } mail && !mail.Contains('@')) return "contact_email: not an e-mail address";
        return null;
    }

    public async Task<(Customer? Customer, string? Error)> CreateAsync(Customer c, string actor)
    {
        c.Uscc = Uscc.Normalize(c.Uscc);
        if (ValidateProfile(c) is { } error) return (null, error);
        if (await db.Customers.AnyAsync(x => x.Uscc == c.Uscc)) return (null, $"uscc: a customer with {c.Uscc} exists");
        var now = clock.GetUtcNow();
        c.CreatedAt = now;
        c.UpdatedAt = now;
        db.Customers.Add(c);
        await db.SaveChangesAsync();
        Audit.Record(db, actor, "Customer", c.Id, "create", null, Snapshot(c), now);
        await db.SaveChangesAsync();
        return (c, null);
    }

    /// <summary>Applies the profile fields of <paramref name="changes"/>; records only the fields that changed.</summary>
    public async Task<string?> UpdateAsync(Customer existing, Customer changes, string actor)
    {
        changes.Uscc = Uscc.Normalize(changes.Uscc);
        if (ValidateProfile(changes) is { } error) return error;
        var before = Snapshot(existing);
        CopyProfile(changes, existing);
        var diff = Audit.Diff(before, Snapshot(existing));
        if (diff is null) return null;
        existing.UpdatedAt = clock.GetUtcNow();
        Audit.Record(db, actor, "Customer", existing.Id, "update", diff.Value.Before, diff.Value.After, existing.UpdatedAt);
        await db.SaveChangesAsync();
        return null;
    }

    public static void CopyProfile(Customer from, Customer to)
    {
        to.Uscc = from.Uscc; to.LegalName = from.LegalName; to.TaxId = from.TaxId; to.RegisteredAddress = from.RegisteredAddress;
        to.ContactName = from.ContactName; to.ContactPhone = from.ContactPhone; to.ContactEmail = from.ContactEmail; to.Industry = from.Industry;
        to.RegisteredCapitalMinor = from.RegisteredCapitalMinor; to.Source = from.Source; to.Region = from.Region; to.OwnerUserName = from.OwnerUserName;
        to.Stage = from.Stage; to.Type = from.Type; to.CooperationSinceYear = from.CooperationSinceYear; to.ExternalRating = from.ExternalRating;
        if (to.Accounts.Count == 0) to.Currency = from.Currency;
    }

    /// <summary>The audited view of a customer's profile.</summary>
    public static ProfileSnapshot Snapshot(Customer c) => new(c.Uscc, c.LegalName, c.TaxId, c.RegisteredAddress, c.ContactName, c.ContactPhone, c.ContactEmail,
        c.Industry, c.RegisteredCapitalMinor, c.Source, c.Region, c.OwnerUserName, c.Stage, c.Type, c.Currency, c.CooperationSinceYear, c.ExternalRating);

    public sealed record ProfileSnapshot(string Uscc, string LegalName, string? TaxId, string? RegisteredAddress, string? ContactName, string? ContactPhone,
        string? ContactEmail, string? Industry, long RegisteredCapitalMinor, string? Source, string? Region, string? OwnerUserName, LifecycleStage Stage,
        CustomerType Type, string Currency, int? CooperationSinceYear, string? ExternalRating);

    /// <summary>
    /// Opens the customer's main engine account with ids derived from its code (account c-{uscc}, request {desk}-open-c-{uscc}):
    /// a retry or re-import resends the same request and the engine answers replayed. Idempotent on the desk side too.
    /// </summary>
    public async Task<(EngineAccount? Account, string? Error)> OpenMainAccountAsync(Customer c, long initialLimitMinor, int termsDays, string actor, CancellationToken ct = default)
    {
        string accountId = RequestIds.MainAccountId(c.Uscc);
        var existing = await db.EngineAccounts.FirstOrDefaultAsync(a => a.AccountId == accountId, ct);
        if (existing is not null) return (existing, null);
        var request = new OpenAccountRequest
        {
            RequestId = RequestIds.ForAccountOpening(await identity.GetAsync(db, ct), accountId),
            AccountId = accountId,
            CustomerId = c.Uscc,
            Currency = c.Currency,
            CreditLimit = initialLimitMinor,
            // Trade credit: each purchase is due net termsDays (docs/LIFECYCLE.md "Billing"), so the engine keeps dues and DPD.
            Billing = new BillingTerms { Mode = BillingMode.Terms, PaymentTermsDays = termsDays },
        };
        OpenAccountResponse reply;
        try
        {
            reply = await engine.Client.OpenAccountAsync(request, ct: ct);
        }
        catch (Grpc.Core.RpcException e)
        {
            log.LogWarning("opening {Account} failed: {Status}", accountId, e.Status);
            return (null, $"engine: {e.Status.StatusCode} {e.Status.Detail}");
        }
        if (!reply.Approved && reply.Status != Status.AccountExists) return (null, $"engine declined opening {accountId}: {reply.Status} ({reply.ResponseCode})");
        long limit = initialLimitMinor, posted = reply.Posted, held = reply.Held, sequence = reply.Sequence;
        if (reply.Status == Status.AccountExists)
        {
            // Opened earlier under another request (e.g. by hand): adopt it with its live state.
            var (live, error) = await engine.GetAccountAsync(accountId, 0, ct);
            if (live is null) return (null, error);
            limit = live.CreditLimit; posted = live.Posted; held = live.Held; sequence = 0;
        }
        var now = clock.GetUtcNow();
        var account = new EngineAccount
        {
            CustomerId = c.Id, AccountId = accountId, Currency = c.Currency, OpenRequestId = request.RequestId, OpenedSequence = reply.Sequence,
            InitialLimitMinor = initialLimitMinor, TermsDays = termsDays, OpenedAt = now, BillingMode = "TERMS",
            LimitMinor = limit, PostedMinor = posted, HeldMinor = held, ProjectedSequence = sequence,
        };
        db.EngineAccounts.Add(account);
        c.LimitMinor += limit; c.PostedMinor += posted; c.HeldMinor += held;
        c.UtilisationPct = Utilisation(c.LimitMinor, c.PostedMinor, c.HeldMinor);
        Audit.Record(db, actor, "Customer", c.Id, "open-account", null,
            new { accountId, request.RequestId, initialLimit = Money.Format(initialLimitMinor, c.Currency), termsDays, engineStatus = reply.Status.ToString(), reply.Sequence, reply.Replayed }, now);
        await db.SaveChangesAsync(ct);
        return (account, null);
    }

    public static int Utilisation(long limitMinor, long postedMinor, long heldMinor) =>
        limitMinor <= 0 ? 0 : (int)Math.Clamp((postedMinor + heldMinor) * 100 / limitMinor, 0, 1000);

    /// <summary>
    /// Imports validated rows: creates missing customers, updates changed profiles, opens missing engine accounts.
    /// Keyed by USCC with derived engine ids, so importing the same file again changes nothing.
    /// </summary>
    public async Task<ImportResult> ImportAsync(IReadOnlyList<ImportRow> rows, string actor, CancellationToken ct = default)
    {
        int created = 0, updated = 0, unchanged = 0, opened = 0;
        var engineErrors = new List<string>();
        foreach (ImportRow row in rows)
        {
            var existing = await db.Customers.Include(c => c.Accounts).FirstOrDefaultAsync(c => c.Uscc == row.Customer.Uscc, ct);
            Customer customer;
            if (existing is null)
            {
                var (c, error) = await CreateAsync(row.Customer, actor);
                if (c is null) { engineErrors.Add($"row {row.RowNumber}: {error}"); continue; }
                customer = c;
                created++;
            }
            else
            {
                // The import does not move a customer's lifecycle stage back; everything else follows the file.
                row.Customer.Stage = existing.Stage;
                var before = Snapshot(existing);
                string? error = await UpdateAsync(existing, row.Customer, actor);
                if (error is not null) { engineErrors.Add($"row {row.RowNumber}: {error}"); continue; }
                if (Audit.Diff(before, Snapshot(existing)) is null) unchanged++; else updated++;
                customer = existing;
            }
            if (row.InitialLimitMinor > 0 && customer.Accounts.Count == 0)
            {
                var (account, error) = await OpenMainAccountAsync(customer, row.InitialLimitMinor, row.TermsDays, actor, ct);
                if (account is null) engineErrors.Add($"row {row.RowNumber}: {error}");
                else opened++;
            }
        }
        return new ImportResult(created, updated, unchanged, opened, engineErrors);
    }
}
