namespace Desk.Domain;

/// <summary>The desk's roles (docs/DESK.md "Users, roles, audit"). A user or API client holds one or more.</summary>
public static class Roles
{
    public const string Sales = "sales";
    public const string Finance = "finance";
    public const string Risk = "risk";
    public const string Collections = "collections";
    public const string Manager = "manager";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Sales, Finance, Risk, Collections, Manager, Admin];

    public static bool IsKnown(string role) => All.Contains(role);

    /// <summary>Parses "sales,finance"; unknown names are an error naming them.</summary>
    public static IReadOnlyList<string> Parse(string text)
    {
        var roles = text.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(r => r.ToLowerInvariant()).Distinct().ToList();
        string[] unknown = roles.Where(r => !IsKnown(r)).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"unknown role(s): {string.Join(", ", unknown)}; known: {string.Join(", ", All)}");
        return roles;
    }
}

/// <summary>What a person or system may do. The matrix in <see cref="Permissions"/> is the README's roles table.</summary>
public enum Permission
{
    /// <summary>See customers: sales only their own, everyone else all.</summary>
    CustomersRead,
    /// <summary>Create and edit customers, tags, related parties, attachments; import.</summary>
    CustomersWrite,
    /// <summary>See every customer, not only one's own (sales lack it).</summary>
    CustomersReadAll,
    /// <summary>See scores, grades and external credit reports (finance, risk, manager).</summary>
    CreditReportsRead,
    /// <summary>Submit credit applications.</summary>
    ApplicationsSubmit,
    /// <summary>Act on approval steps (the step still has to name the person's role, title or name).</summary>
    ApplicationsDecide,
    /// <summary>Edit approval routes and scoring models.</summary>
    PoliciesWrite,
    /// <summary>Create and edit segments.</summary>
    SegmentsWrite,
    /// <summary>Manage users and API clients.</summary>
    UsersManage,
    /// <summary>Read the audit log across records.</summary>
    AuditRead,
    /// <summary>Assign collection cases and record actions on them (collections, manager).</summary>
    CollectionsWork,
}

public static class Permissions
{
    private static readonly Dictionary<string, Permission[]> Matrix = new()
    {
        [Roles.Sales] = [Permission.CustomersRead, Permission.CustomersWrite, Permission.ApplicationsSubmit, Permission.SegmentsWrite],
        [Roles.Finance] = [Permission.CustomersRead, Permission.CustomersReadAll, Permission.CustomersWrite, Permission.CreditReportsRead,
            Permission.ApplicationsSubmit, Permission.ApplicationsDecide, Permission.SegmentsWrite],
        [Roles.Risk] = [Permission.CustomersRead, Permission.CustomersReadAll, Permission.CreditReportsRead, Permission.ApplicationsSubmit,
            Permission.ApplicationsDecide, Permission.PoliciesWrite, Permission.SegmentsWrite],
        [Roles.Collections] = [Permission.CustomersRead, Permission.CustomersReadAll, Permission.SegmentsWrite, Permission.CollectionsWork],
        [Roles.Manager] = [Permission.CustomersRead, Permission.CustomersReadAll, Permission.CreditReportsRead, Permission.ApplicationsSubmit,
            Permission.ApplicationsDecide, Permission.SegmentsWrite, Permission.AuditRead, Permission.CollectionsWork],
        [Roles.Admin] = [Permission.CustomersRead, Permission.CustomersReadAll, Permission.CustomersWrite, Permission.PoliciesWrite,
            Permission.UsersManage, Permission.AuditRead, Permission.SegmentsWrite],
    };

    public static bool Allows(string role, Permission permission) => Matrix.TryGetValue(role, out var granted) && granted.Contains(permission);

    public static bool Allows(IEnumerable<string> roles, Permission permission) => roles.Any(r => Allows(r, permission));

    public static IReadOnlyList<string> RolesWith(Permission permission) => Matrix.Where(kv => kv.Value.Contains(permission)).Select(kv => kv.Key).ToList();
}
