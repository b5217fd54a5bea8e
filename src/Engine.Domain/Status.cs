namespace Engine.Domain;

/// <summary>
/// The outcome of a command. <see cref="Ok"/> is approval / success; every other value is a business
/// outcome (a decline or a refusal) that is journaled as a <see cref="EventType.Declined"/> event and
/// answered as a reply, never as an error. Numeric values are part of the journal format: append only.
/// </summary>
public enum Status : byte
{
    Ok = 0,
    InsufficientCredit = 1,
    AccountNotFound = 2,
    AccountFrozen = 3,
    AccountClosed = 4,
    CurrencyMismatch = 5,
    AmountLimitExceeded = 6,
    VelocityLimitExceeded = 7,
    MerchantCategoryBlocked = 8,
    RequestIdReused = 9,
    AccountExists = 10,
    AccountHasBalance = 11,
    AuthorizationNotFound = 12,
    AuthorizationVoided = 13,
    AuthorizationClosed = 14,
    CaptureExceedsAuthorization = 15,
    /// <summary>A partial void asked to release more than the open hold.</summary>
    AmountExceedsHold = 16,
    /// <summary>A refund linked to an authorization exceeds what was captured on it minus earlier refunds.</summary>
    RefundExceedsCapture = 17,
    /// <summary>The result would fall outside int64; nothing changed.</summary>
    ArithmeticOverflow = 18,
    /// <summary>The account already has the maximum number of open authorizations.</summary>
    OpenAuthorizationLimitExceeded = 19,
    /// <summary>The engine holds its configured maximum number of accounts.</summary>
    EngineCapacityExceeded = 20,
    /// <summary>Overload or shutdown. Never journaled: the edge maps it to a gRPC status.</summary>
    EngineUnavailable = 21,
    /// <summary>ScheduleDues: the plan's total exceeds what is posted and not yet scheduled.</summary>
    ScheduleExceedsPosted = 22,
    /// <summary>ReleaseDeposit / ApplyDeposit beyond the account's deposit.</summary>
    AmountExceedsDeposit = 23,
    /// <summary>PayOut beyond the account's credit balance, max(−posted, 0).</summary>
    AmountExceedsCreditBalance = 24,
    /// <summary>ApplyDeposit beyond what is owed, max(posted, 0).</summary>
    AmountExceedsOwed = 25,
}

/// <summary>ISO 8583 response codes (field 39) for each <see cref="Status"/>.</summary>
public static class ResponseCodes
{
    private static readonly string[] Codes = BuildTable();

    /// <summary>The two-character ISO 8583 response code of a status.</summary>
    public static string For(Status status) => Codes[(int)status];

    private static string[] BuildTable()
    {
        var table = new string[(int)Status.AmountExceedsOwed + 1];
        table[(int)Status.Ok] = "00";
        table[(int)Status.InsufficientCredit] = "51";
        table[(int)Status.AccountNotFound] = "14";
        table[(int)Status.AccountFrozen] = "62";
        table[(int)Status.AccountClosed] = "46";
        table[(int)Status.CurrencyMismatch] = "12";
        table[(int)Status.AmountLimitExceeded] = "61";
        table[(int)Status.VelocityLimitExceeded] = "65";
        table[(int)Status.MerchantCategoryBlocked] = "57";
        table[(int)Status.RequestIdReused] = "94";
        // Statuses docs/SPEC.md does not assign a code to, mapped to the nearest ISO 8583 meaning.
        table[(int)Status.AccountExists] = "12";                  // invalid transaction
        table[(int)Status.AccountHasBalance] = "12";              // invalid transaction
        table[(int)Status.AuthorizationNotFound] = "25";          // unable to locate record
        table[(int)Status.AuthorizationVoided] = "12";
        table[(int)Status.AuthorizationClosed] = "12";
        table[(int)Status.CaptureExceedsAuthorization] = "13";    // invalid amount
        table[(int)Status.AmountExceedsHold] = "13";
        table[(int)Status.RefundExceedsCapture] = "13";
        table[(int)Status.ArithmeticOverflow] = "13";
        table[(int)Status.OpenAuthorizationLimitExceeded] = "65"; // exceeds frequency limit
        table[(int)Status.EngineCapacityExceeded] = "96";         // system malfunction
        table[(int)Status.EngineUnavailable] = "91";              // issuer unavailable
        table[(int)Status.ScheduleExceedsPosted] = "13";         // invalid amount
        table[(int)Status.AmountExceedsDeposit] = "13";
        table[(int)Status.AmountExceedsCreditBalance] = "13";
        table[(int)Status.AmountExceedsOwed] = "13";
        return table;
    }
}
