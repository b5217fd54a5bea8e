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

/// <summary>Which commands belong to which path (docs/SPEC.md "Commands"; the access roles of README "Access control").</summary>
public static class CommandKinds
{
    /// <summary>
    /// Account administration: opening, limits, freezes, closing, spending controls and the credit lifecycle's commands.
    /// Their events record the sending principal (<see cref="Command.Actor"/>).
    /// </summary>
    public static bool IsAccountAdministration(CommandType type) => type is
        CommandType.OpenAccount or CommandType.ChangeLimit or CommandType.SetTemporaryLimit or CommandType.Freeze
        or CommandType.Unfreeze or CommandType.CloseAccount or CommandType.SetSpendingControls
        or CommandType.SetBillingTerms or CommandType.ScheduleDues or CommandType.SetDelinquencyPolicy
        or CommandType.TopUp or CommandType.ReleaseDeposit or CommandType.ApplyDeposit or CommandType.PayOut
        or CommandType.AdvanceClock;

    /// <summary>The authorization path: what a card switch or order system sends.</summary>
    public static bool IsAuthorizationPath(CommandType type) => type is
        CommandType.Authorize or CommandType.IncrementAuthorization or CommandType.Capture or CommandType.Void
        or CommandType.ForcePost or CommandType.Refund or CommandType.Repay;
}
