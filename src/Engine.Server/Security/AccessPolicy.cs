using Engine.Domain;
using ProtoCommand = Credit.V1.Command;

namespace Engine.Server.Security;

/// <summary>
/// Who may call what (issue #14 item 1; README "Access control"): one row per RPC of every service this server maps,
/// keyed by the method's full name (<c>package.Service/Method</c>). An RPC missing from the table is refused
/// (PERMISSION_DENIED), never let through; <c>AccessPolicyTests</c> fails when a service gains a method this table
/// does not name. Inside <c>PipelineService.Execute</c> each command needs the role of its kind
/// (<see cref="RoleOf(ProtoCommand.CommandOneofCase)"/>), so a batch carries no more authority than its unary calls.
/// </summary>
public static class AccessPolicy
{
    private static readonly AccessRule Authorizer = AccessRule.AnyOf(AccessRoles.Authorizer);
    private static readonly AccessRule AccountAdmin = AccessRule.AnyOf(AccessRoles.AccountAdmin);
    private static readonly AccessRule Reader = AccessRule.AnyOf(AccessRoles.Reader);
    private static readonly AccessRule Replica = AccessRule.AnyOf(AccessRoles.Replica);
    private static readonly AccessRule Operator = AccessRule.AnyOf(AccessRoles.Operator);
    // Reflection serves the schema (the same as protos/credit/v1), which people with grpcurl need to query or to
    // check status; it grants nothing by itself, so either of the two human-facing read roles is enough.
    private static readonly AccessRule Reflection = AccessRule.AnyOf(AccessRoles.Reader, AccessRoles.Operator);

    /// <summary>The table: method full name → rule.</summary>
    public static readonly IReadOnlyDictionary<string, AccessRule> Rules = new Dictionary<string, AccessRule>(StringComparer.Ordinal)
    {
        ["credit.v1.AuthorizationService/Authorize"] = Authorizer,
        ["credit.v1.AuthorizationService/IncrementAuthorization"] = Authorizer,
        ["credit.v1.AuthorizationService/Capture"] = Authorizer,
        ["credit.v1.AuthorizationService/Void"] = Authorizer,
        ["credit.v1.AuthorizationService/ForcePost"] = Authorizer,
        ["credit.v1.AuthorizationService/Refund"] = Authorizer,
        ["credit.v1.AuthorizationService/Repay"] = Authorizer,

        ["credit.v1.AccountService/OpenAccount"] = AccountAdmin,
        ["credit.v1.AccountService/ChangeLimit"] = AccountAdmin,
        ["credit.v1.AccountService/SetTemporaryLimit"] = AccountAdmin,
        ["credit.v1.AccountService/Freeze"] = AccountAdmin,
        ["credit.v1.AccountService/Unfreeze"] = AccountAdmin,
        ["credit.v1.AccountService/CloseAccount"] = AccountAdmin,
        ["credit.v1.AccountService/SetSpendingControls"] = AccountAdmin,

        ["credit.v1.LifecycleService/SetBillingTerms"] = AccountAdmin,
        ["credit.v1.LifecycleService/ScheduleDues"] = AccountAdmin,
        ["credit.v1.LifecycleService/SetDelinquencyPolicy"] = AccountAdmin,
        ["credit.v1.LifecycleService/TopUp"] = AccountAdmin,
        ["credit.v1.LifecycleService/ReleaseDeposit"] = AccountAdmin,
        ["credit.v1.LifecycleService/ApplyDeposit"] = AccountAdmin,
        ["credit.v1.LifecycleService/PayOut"] = AccountAdmin,
        // Moves engine time for good (test environments only): an operator's act, not an account's.
        ["credit.v1.LifecycleService/AdvanceClock"] = Operator,

        ["credit.v1.PipelineService/Execute"] = AccessRule.EachCommand,

        ["credit.v1.EventService/Subscribe"] = AccessRule.SubscribeByFormat,
        // A durable consumer acknowledges and frees its own cursor: part of reading the stream.
        ["credit.v1.EventService/AcknowledgeCursor"] = Reader,
        ["credit.v1.EventService/DeleteCursor"] = Reader,

        ["credit.v1.QueryService/GetAccount"] = Reader,
        ["credit.v1.QueryService/ListDelinquentAccounts"] = Reader,
        ["credit.v1.QueryService/GetPortfolio"] = Reader,
        ["credit.v1.QueryService/ListAuthorizations"] = Reader,
        ["credit.v1.QueryService/ListEvents"] = Reader,

        ["credit.v1.ReplicationService/GetStatus"] = Operator,
        // The whole ledger in one download: only what a replica rebuilding needs.
        ["credit.v1.ReplicationService/GetSnapshot"] = Replica,

        // Orchestrators probe health without credentials. (A later health proto's List, every status at once, would be
        // health detail: operator.)
        ["grpc.health.v1.Health/Check"] = AccessRule.Open,
        ["grpc.health.v1.Health/Watch"] = AccessRule.Open,

        ["grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"] = Reflection,
        ["grpc.reflection.v1.ServerReflection/ServerReflectionInfo"] = Reflection,
    };

    /// <summary>The rule of <paramref name="methodFullName"/> (<c>package.Service/Method</c>, a leading '/' allowed); null when the table has none.</summary>
    public static AccessRule? RuleOf(string methodFullName) =>
        Rules.TryGetValue(methodFullName.StartsWith('/') ? methodFullName[1..] : methodFullName, out AccessRule? rule) ? rule : null;

    /// <summary>
    /// The role a command of an Execute batch needs: the role of the unary RPC of the same name. Null for an unset
    /// command, which Execute refuses as INVALID_ARGUMENT anyway.
    /// </summary>
    public static string? RoleOf(ProtoCommand.CommandOneofCase kind) => kind switch
    {
        ProtoCommand.CommandOneofCase.None => null,
        ProtoCommand.CommandOneofCase.Authorize or ProtoCommand.CommandOneofCase.IncrementAuthorization or ProtoCommand.CommandOneofCase.Capture
            or ProtoCommand.CommandOneofCase.Void or ProtoCommand.CommandOneofCase.ForcePost or ProtoCommand.CommandOneofCase.Refund
            or ProtoCommand.CommandOneofCase.Repay => AccessRoles.Authorizer,
        ProtoCommand.CommandOneofCase.OpenAccount or ProtoCommand.CommandOneofCase.ChangeLimit or ProtoCommand.CommandOneofCase.SetTemporaryLimit
            or ProtoCommand.CommandOneofCase.Freeze or ProtoCommand.CommandOneofCase.Unfreeze or ProtoCommand.CommandOneofCase.CloseAccount
            or ProtoCommand.CommandOneofCase.SetSpendingControls or ProtoCommand.CommandOneofCase.SetBillingTerms
            or ProtoCommand.CommandOneofCase.ScheduleDues or ProtoCommand.CommandOneofCase.SetDelinquencyPolicy or ProtoCommand.CommandOneofCase.TopUp
            or ProtoCommand.CommandOneofCase.ReleaseDeposit or ProtoCommand.CommandOneofCase.ApplyDeposit
            or ProtoCommand.CommandOneofCase.PayOut => AccessRoles.AccountAdmin,
        // A kind added to the oneof later needs its row here; until then no role admits it.
        _ => NoRole,
    };

    /// <summary>The same for a command decoded by the zero-copy Execute (<see cref="Engine.Server.Grpc.ExecuteWire"/>).</summary>
    public static string? RoleOf(CommandType type) => type switch
    {
        CommandType.None => null,
        // Test clocks are an operator's (the domain counts AdvanceClock as administration for the audit trail).
        CommandType.AdvanceClock => AccessRoles.Operator,
        _ when CommandKinds.IsAuthorizationPath(type) => AccessRoles.Authorizer,
        _ when CommandKinds.IsAccountAdministration(type) => AccessRoles.AccountAdmin,
        // Tick is the engine's own and never comes from the wire; a kind added later needs its place in CommandKinds.
        _ => NoRole,
    };

    /// <summary>A role nobody can hold: what an unmapped command kind needs.</summary>
    public const string NoRole = "(no role: this command kind has no access rule)";
}
