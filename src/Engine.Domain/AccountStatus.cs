namespace Engine.Domain;

/// <summary>Lifecycle of an account. Numeric values are part of the snapshot format.</summary>
public enum AccountStatus : byte
{
    Active = 0,
    Frozen = 1,
    Closed = 2,
}
