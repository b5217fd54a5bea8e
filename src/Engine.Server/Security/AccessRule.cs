namespace Engine.Server.Security;

/// <summary>How <see cref="AccessControl"/> decides one RPC.</summary>
public enum AccessRuleKind
{
    /// <summary>Anyone, without credentials (grpc.health.v1 Check and Watch: orchestrators probe without keys).</summary>
    Open,
    /// <summary>An authenticated principal holding any one of <see cref="AccessRule.Roles"/>.</summary>
    AnyRole,
    /// <summary>PipelineService.Execute: each command of each batch needs the role of its kind (<see cref="AccessPolicy.RoleOf(Credit.V1.Command.CommandOneofCase)"/>).</summary>
    EachCommand,
    /// <summary>EventService.Subscribe: <c>reader</c>, or <c>replica</c> for the EVENT_BLOCKS format.</summary>
    SubscribeByFormat,
}

/// <summary>The access rule of one RPC: a row of <see cref="AccessPolicy"/>'s table.</summary>
public sealed record AccessRule(AccessRuleKind Kind, string[] Roles)
{
    public static readonly AccessRule Open = new(AccessRuleKind.Open, []);
    public static readonly AccessRule EachCommand = new(AccessRuleKind.EachCommand, [AccessRoles.Authorizer, AccessRoles.AccountAdmin]);
    public static readonly AccessRule SubscribeByFormat = new(AccessRuleKind.SubscribeByFormat, [AccessRoles.Reader, AccessRoles.Replica]);

    public static AccessRule AnyOf(params string[] roles) => new(AccessRuleKind.AnyRole, roles);

    /// <summary>"'reader' or 'operator'": how a refusal names the roles that would have been enough.</summary>
    public string RolesText => string.Join(" or ", Roles.Select(role => $"'{role}'"));
}
