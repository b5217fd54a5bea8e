namespace Engine.Domain;

/// <summary>The commands the engine accepts. Numeric values are part of the journal format: append only.</summary>
public enum CommandType : byte
{
    None = 0,
    OpenAccount = 1,
    ChangeLimit = 2,
    SetTemporaryLimit = 3,
    Freeze = 4,
    Unfreeze = 5,
    CloseAccount = 6,
    Authorize = 7,
    IncrementAuthorization = 8,
    Capture = 9,
    Void = 10,
    ForcePost = 11,
    Refund = 12,
    Repay = 13,
    SetSpendingControls = 14,
    /// <summary>Engine-internal: advances engine time and expires due holds. Has no request id and no reply.</summary>
    Tick = 15,
    // Credit lifecycle (docs/LIFECYCLE.md).
    SetBillingTerms = 16,
    ScheduleDues = 17,
    SetDelinquencyPolicy = 18,
    TopUp = 19,
    ReleaseDeposit = 20,
    ApplyDeposit = 21,
    PayOut = 22,
    /// <summary>Operator test clock: moves engine time forward by <c>AmountMinor</c> milliseconds (journaled).</summary>
    AdvanceClock = 23,
}
