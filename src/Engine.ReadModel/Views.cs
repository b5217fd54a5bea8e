using Engine.Domain;

namespace Engine.ReadModel;

/// <summary>An account as a query sees it, at the read model's <see cref="Sequence"/>; limits and balances in minor units.</summary>
public sealed record AccountView(
    string AccountId,
    string CustomerId,
    string Currency,
    AccountStatus Status,
    long CreditLimitMinor,
    long TemporaryLimitMinor,
    long TemporaryLimitExpiresAtUnixMs,
    bool TemporaryLimitActive,
    long HeldMinor,
    long PostedMinor,
    long AvailableMinor,
    byte OvercapturePercent,
    int OpenAuthorizationCount,
    SpendingControls? Controls,
    long Sequence,
    LifecycleView? Lifecycle = null);

/// <summary>One authorization of an account; <see cref="ClosedAtUnixMs"/> is 0 while it is open.</summary>
public sealed record AuthorizationView(
    string AuthorizationId,
    string AccountId,
    AuthorizationState State,
    long AuthorizedMinor,
    long HeldMinor,
    long CapturedMinor,
    long RefundedMinor,
    long ReversedMinor,
    long ExpiresAtUnixMs,
    long ClosedAtUnixMs,
    long CreatedSequence);

/// <summary>
/// A page of an account's authorizations in creation order, at <see cref="Sequence"/>. <see cref="NextAfterCreatedSequence"/>
/// is where the next page starts (after that created sequence); null on the last page.
/// </summary>
public sealed record AuthorizationPage(long Sequence, IReadOnlyList<AuthorizationView> Authorizations, long? NextAfterCreatedSequence);

/// <summary>
/// A page of an account's events from the log, at <see cref="Sequence"/>. <see cref="NextFromSequence"/> is where the
/// next page starts (0 on the last page); <see cref="OldestRetainedSequence"/> is the oldest event of the account
/// still in the history (0 when it has none).
/// </summary>
public sealed record EventPage(long Sequence, IReadOnlyList<LedgerEvent> Events, long NextFromSequence, long OldestRetainedSequence);
