namespace Engine.Domain;

/// <summary>Lifecycle of an authorization (a hold). Numeric values are part of the snapshot format.</summary>
public enum AuthorizationState : byte
{
    /// <summary>The hold counts against available credit.</summary>
    Open = 0,
    /// <summary>Fully captured, captured with <c>final</c>, or released after a partial capture. Further captures are refused.</summary>
    Closed = 1,
    /// <summary>Released by void before any capture. Captures are refused (use ForcePost).</summary>
    Voided = 2,
    /// <summary>Released by the engine at its expiry. Late captures still post.</summary>
    Expired = 3,
}
