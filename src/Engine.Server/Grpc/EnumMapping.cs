namespace Engine.Server.Grpc;

/// <summary>
/// Domain enums → proto enums, in one place. Status, account status and authorization state are the domain's value
/// + 1 (proto reserves 0 for UNSPECIFIED); event and command types have the same numbers on both sides (the
/// domain's 0 is its own "none", which proto calls UNSPECIFIED).
/// </summary>
public static class EnumMapping
{
    public static Credit.V1.Status ToProto(Engine.Domain.Status status) => (Credit.V1.Status)((int)status + 1);

    public static Credit.V1.AccountStatus ToProto(Engine.Domain.AccountStatus status) => (Credit.V1.AccountStatus)((int)status + 1);

    public static Credit.V1.AuthorizationState ToProto(Engine.Domain.AuthorizationState state) => (Credit.V1.AuthorizationState)((int)state + 1);

    public static Credit.V1.EventType ToProto(Engine.Domain.EventType type) => (Credit.V1.EventType)(int)type;

    public static Engine.Domain.EventType ToDomain(Credit.V1.EventType type) => (Engine.Domain.EventType)(int)type;

    public static Credit.V1.CommandType ToProto(Engine.Domain.CommandType command) => (Credit.V1.CommandType)(int)command;
}
