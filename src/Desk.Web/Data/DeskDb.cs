using Desk.Domain;
using Microsoft.EntityFrameworkCore;

namespace Desk.Web.Data;

/// <summary>
/// The desk's database. One model for both providers; each provider has its own migrations (Data/Migrations/Sqlite,
/// Data/Migrations/Postgres) through the two subclasses below. Audit entries are append-only: SaveChanges refuses to
/// modify or delete them, and database triggers (in the migrations) refuse it to anyone going around EF.
/// </summary>
public class DeskDb(DbContextOptions options) : DbContext(options)
{
    public DbSet<Customer> Customers => Set<Customer>();
    public DbSet<Tag> Tags => Set<Tag>();
    public DbSet<CustomerTag> CustomerTags => Set<CustomerTag>();
    public DbSet<EngineAccount> EngineAccounts => Set<EngineAccount>();
    public DbSet<RelatedParty> RelatedParties => Set<RelatedParty>();
    public DbSet<Attachment> Attachments => Set<Attachment>();
    public DbSet<AuditEntry> Audit => Set<AuditEntry>();
    public DbSet<DeskUser> Users => Set<DeskUser>();
    public DbSet<ApiClient> ApiClients => Set<ApiClient>();
    public DbSet<DeskSetting> Settings => Set<DeskSetting>();
    public DbSet<CreditApplication> Applications => Set<CreditApplication>();
    public DbSet<ApprovalStep> ApprovalSteps => Set<ApprovalStep>();
    public DbSet<ApprovalDecision> ApprovalDecisions => Set<ApprovalDecision>();
    public DbSet<ApprovalNotice> ApprovalNotices => Set<ApprovalNotice>();
    public DbSet<CustomerScore> Scores => Set<CustomerScore>();
    public DbSet<ScoringModelVersion> ScoringModels => Set<ScoringModelVersion>();
    public DbSet<RoutePolicyVersion> RoutePolicies => Set<RoutePolicyVersion>();
    public DbSet<Segment> Segments => Set<Segment>();
    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();
    public DbSet<OutboxAttempt> OutboxAttempts => Set<OutboxAttempt>();
    public DbSet<CollectionCase> Cases => Set<CollectionCase>();
    public DbSet<CaseActionRecord> CaseActions => Set<CaseActionRecord>();
    public DbSet<CollectionTask> CollectionTasks => Set<CollectionTask>();
    public DbSet<AccountDue> Dues => Set<AccountDue>();
    public DbSet<AccountPayment> Payments => Set<AccountPayment>();
    public DbSet<PortfolioMonth> PortfolioMonths => Set<PortfolioMonth>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Customer>(e =>
        {
            e.HasIndex(c => c.Uscc).IsUnique();
            e.HasIndex(c => c.LegalName);
            e.HasIndex(c => c.OwnerUserName);
            e.HasIndex(c => c.Region);
            e.HasIndex(c => c.Grade);
            // The cockpit: the top overdue customers and past due by salesperson; one covering index for the grouping by
            // grade, industry and region (an index-only scan instead of reading 100,000 wide rows).
            e.HasIndex(c => new { c.PastDueMinor, c.OwnerUserName });
            e.HasIndex(c => new { c.Grade, c.Industry, c.Region, c.ReceivablesMinor, c.PastDueMinor, c.LimitMinor, c.PostedMinor, c.HeldMinor });
            e.Property(c => c.Uscc).HasMaxLength(18);
            e.Property(c => c.LegalName).HasMaxLength(200);
            e.Property(c => c.Stage).HasConversion<string>().HasMaxLength(20);
            e.Property(c => c.Type).HasConversion<string>().HasMaxLength(20);
            e.Property(c => c.Currency).HasMaxLength(3);
            e.HasMany(c => c.Tags).WithOne().HasForeignKey(t => t.CustomerId);
            e.HasMany(c => c.Accounts).WithOne().HasForeignKey(a => a.CustomerId);
        });
        b.Entity<Tag>().HasIndex(t => t.Name).IsUnique();
        b.Entity<CustomerTag>(e =>
        {
            e.HasKey(t => new { t.CustomerId, t.TagId });
            e.HasOne(t => t.Tag).WithMany().HasForeignKey(t => t.TagId);
            e.HasIndex(t => t.TagId);
        });
        b.Entity<EngineAccount>(e =>
        {
            e.HasIndex(a => a.AccountId).IsUnique();
            e.HasIndex(a => a.CustomerId);
            // The collections worklist: by stage, largest past-due first.
            e.HasIndex(a => new { a.DelinquencyStage, a.PastDueMinor });
            e.HasIndex(a => a.PastDueMinor);
            e.Property(a => a.BillingMode).HasMaxLength(10);
            e.Property(a => a.DelinquencyStage).HasMaxLength(20);
        });
        b.Entity<RelatedParty>().HasIndex(p => p.CustomerId);
        b.Entity<Attachment>().HasIndex(a => a.CustomerId);
        b.Entity<AuditEntry>(e =>
        {
            e.ToTable("AuditEntries");
            e.HasIndex(a => new { a.EntityType, a.EntityId });
            e.HasIndex(a => a.At);
        });
        b.Entity<DeskUser>(e =>
        {
            e.ToTable("Users");
            e.HasIndex(u => u.UserName).IsUnique();
            e.Property(u => u.Language).HasMaxLength(8);
            e.Property(u => u.Source).HasMaxLength(8).HasDefaultValue("local");
        });
        b.Entity<ApiClient>().HasIndex(c => c.KeyHash).IsUnique();
        b.Entity<DeskSetting>().HasKey(s => s.Key);
        b.Entity<CreditApplication>(e =>
        {
            e.ToTable("Applications");
            e.Property(a => a.Kind).HasConversion<string>().HasMaxLength(20);
            e.Property(a => a.Status).HasConversion<string>().HasMaxLength(20);
            e.Property(a => a.WriteBack).HasConversion<string>().HasMaxLength(20);
            e.HasIndex(a => a.CustomerId);
            e.HasIndex(a => new { a.WriteBack, a.WriteBackNextAttemptAt });
            e.HasIndex(a => a.Status);
            e.HasMany(a => a.Steps).WithOne().HasForeignKey(s => s.ApplicationId);
            e.HasMany(a => a.Decisions).WithOne().HasForeignKey(d => d.ApplicationId);
        });
        b.Entity<ApprovalStep>(e =>
        {
            e.Property(s => s.Mode).HasConversion<string>().HasMaxLength(10);
            e.Property(s => s.Status).HasConversion<string>().HasMaxLength(10);
        });
        b.Entity<ApprovalDecision>().Property(d => d.Action).HasConversion<string>().HasMaxLength(10);
        b.Entity<ApprovalNotice>(e =>
        {
            e.Property(n => n.Kind).HasConversion<string>().HasMaxLength(12);
            e.HasIndex(n => n.ApplicationId);
        });
        b.Entity<CustomerScore>().HasIndex(s => new { s.CustomerId, s.At });
        b.Entity<ScoringModelVersion>().HasKey(m => m.Version);
        b.Entity<ScoringModelVersion>().Property(m => m.Version).ValueGeneratedNever();
        b.Entity<RoutePolicyVersion>().HasKey(m => m.Version);
        b.Entity<RoutePolicyVersion>().Property(m => m.Version).ValueGeneratedNever();
        b.Entity<Segment>().HasIndex(s => s.Name).IsUnique();
        b.Entity<OutboxMessage>(e =>
        {
            e.ToTable("OutboxMessages");
            // One message per trigger: the unique key is what makes an enqueue after a crash or a second run a no-op.
            e.HasIndex(m => m.TriggerKey).IsUnique();
            e.HasIndex(m => new { m.Status, m.NextAttemptAt });
            e.Property(m => m.TriggerKey).HasMaxLength(OutboxRules.TriggerKeyLengthMax);
            e.Property(m => m.Channel).HasConversion<string>().HasMaxLength(10);
            e.Property(m => m.Status).HasConversion<string>().HasMaxLength(10);
            e.Property(m => m.Target).HasMaxLength(500);
            e.HasMany(m => m.AttemptLog).WithOne().HasForeignKey(a => a.MessageId);
        });
        b.Entity<OutboxAttempt>(e => { e.ToTable("OutboxAttempts"); e.HasIndex(a => a.MessageId); });
        b.Entity<CollectionCase>(e =>
        {
            e.ToTable("CollectionCases");
            e.HasIndex(c => c.AccountId).IsUnique();
            e.HasIndex(c => c.AssignedTo);
            e.Property(c => c.Status).HasConversion<string>().HasMaxLength(10);
            e.HasMany(c => c.Actions).WithOne().HasForeignKey(a => a.CaseId);
        });
        b.Entity<CaseActionRecord>(e =>
        {
            e.ToTable("CollectionActions");
            e.HasIndex(a => a.CaseId);
            e.Property(a => a.Kind).HasConversion<string>().HasMaxLength(20);
        });

        b.Entity<CollectionTask>(e =>
        {
            e.ToTable("CollectionTasks");
            e.HasIndex(t => t.TriggerKey).IsUnique();
            e.HasIndex(t => t.CaseId);
            e.HasIndex(t => new { t.AssignedTo, t.DoneAt });
            e.Property(t => t.TriggerKey).HasMaxLength(200);
        });
        b.Entity<AccountDue>(e =>
        {
            e.ToTable("AccountDues");
            // One due per account and day (the engine merges dues of a day); the day index serves aging and reminders.
            e.HasIndex(d => new { d.AccountId, d.DueDay }).IsUnique();
            // Aging, reminders and "open by month end" read only this index (covering).
            e.HasIndex(d => new { d.DueDay, d.CustomerId, d.AmountMinor, d.PaidMinor });
            e.HasIndex(d => d.CustomerId);
            e.HasIndex(d => new { d.PastDueCounted, d.DueDay });
            e.Ignore(d => d.OpenMinor);
        });
        b.Entity<AccountPayment>(e =>
        {
            e.ToTable("AccountPayments");
            e.HasIndex(p => p.Sequence).IsUnique();
            e.HasIndex(p => new { p.AccountId, p.Sequence });
            e.HasIndex(p => new { p.Month, p.CustomerId });
            e.Property(p => p.Kind).HasMaxLength(20);
        });
        b.Entity<PortfolioMonth>(e =>
        {
            e.ToTable("PortfolioMonths");
            e.HasKey(m => m.Month);
            e.Property(m => m.Month).ValueGeneratedNever();
        });

        if (Database.IsSqlite())
        {
            // SQLite cannot order or compare DateTimeOffset natively; store UTC ticks so deadlines sort and filter in SQL.
            foreach (var entity in b.Model.GetEntityTypes())
            foreach (var property in entity.GetProperties())
            {
                if (property.ClrType == typeof(DateTimeOffset)) property.SetValueConverter(new Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter());
                if (property.ClrType == typeof(DateTimeOffset?)) property.SetValueConverter(new Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter());
            }
        }
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        RefuseAuditEdits();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        RefuseAuditEdits();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    private void RefuseAuditEdits()
    {
        foreach (var entry in ChangeTracker.Entries<AuditEntry>())
        {
            if (entry.State is EntityState.Modified or EntityState.Deleted)
                throw new InvalidOperationException($"audit entry {entry.Entity.Id} is append-only: it cannot be modified or deleted");
        }
    }
}

/// <summary>The SQLite flavour (its own migrations).</summary>
public sealed class SqliteDeskDb(DbContextOptions<SqliteDeskDb> options) : DeskDb(options);

/// <summary>The PostgreSQL flavour (its own migrations).</summary>
public sealed class PostgresDeskDb(DbContextOptions<PostgresDeskDb> options) : DeskDb(options);
