namespace Engine.Server.Security;

/// <summary>
/// The roles a principal may hold (issue #14, README "Access control"). A role names a set of RPCs in
/// <see cref="AccessPolicy"/>; a principal holds any number of them.
/// </summary>
public static class AccessRoles
{
    /// <summary>The authorization path: Authorize, IncrementAuthorization, Capture, Void, ForcePost, Refund, Repay (also inside Execute).</summary>
    public const string Authorizer = "authorizer";
    /// <summary>Account administration: AccountService and the lifecycle commands (also inside Execute).</summary>
    public const string AccountAdmin = "account-admin";
    /// <summary>Queries, Subscribe (JSON/protobuf events) and durable cursors.</summary>
    public const string Reader = "reader";
    /// <summary>What a read replica needs from its upstream: Subscribe in EVENT_BLOCKS format and GetSnapshot.</summary>
    public const string Replica = "replica";
    /// <summary>Status and health detail (ReplicationService.GetStatus), the test clock (AdvanceClock).</summary>
    public const string Operator = "operator";

    public static readonly string[] All = [Authorizer, AccountAdmin, Reader, Replica, Operator];

    public static bool IsKnown(string role) => Array.IndexOf(All, role) >= 0;
}
