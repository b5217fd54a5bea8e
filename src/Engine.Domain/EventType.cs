namespace Engine.Domain;

/// <summary>Ledger event types (docs/SPEC.md "Events"). Numeric values are part of the journal format: append only.</summary>
public enum EventType : byte
{
    None = 0,
    AccountOpened = 1,
    LimitChanged = 2,
    TemporaryLimitSet = 3,
    AccountFrozen = 4,
    AccountUnfrozen = 5,
    AccountClosed = 6,
    Authorized = 7,
    /// <summary>Any command whose outcome is not <see cref="Status.Ok"/>; <c>Command</c> and <c>Status</c> say which and why.</summary>
    Declined = 8,
    AuthorizationIncreased = 9,
    Captured = 10,
    Voided = 11,
    Expired = 12,
    ForcePosted = 13,
    Refunded = 14,
    Repaid = 15,
    SpendingControlsSet = 16,
    // Credit lifecycle (docs/LIFECYCLE.md).
    BillingTermsSet = 17,
    DuesScheduled = 18,
    DelinquencyPolicySet = 19,
    StatementClosed = 20,
    DueSoon = 21,
    DelinquencyStageChanged = 22,
    ToppedUp = 23,
    DepositReleased = 24,
    DepositApplied = 25,
    PaidOut = 26,
    ClockAdvanced = 27,
}
