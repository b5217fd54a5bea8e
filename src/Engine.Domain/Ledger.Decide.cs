using System.Diagnostics;
namespace Engine.Domain;

/// <summary>
/// Decide: command + state + engine time → the outcome event. Reads state, never writes it. Every
/// outcome, approvals and declines alike, becomes exactly one event carrying the balances after it.
/// </summary>
public sealed partial class Ledger
{
    // The account Decide found last, for Apply to reuse (accounts are never removed, so an index stays valid).
    private UInt128 _lastLookedUpAccountKey;
    private int _lastLookedUpAccountIndex;

    /// <summary>Decides a command whose keys are stamped: every id is looked up by its 128-bit key, none is hashed here.</summary>
    private LedgerEvent Decide(in Command command, long now)
    {
        bool byAuthorization = IsAddressedByAuthorization(command.Type);
        var outcome = new LedgerEvent
        {
            Sequence = LastSequence + 1,
            TimestampUnixMs = now,
            Command = command.Type,
            RequestId = command.RequestId,
            RequestKey = command.RequestKey,
            PayloadFingerprint = command.PayloadFingerprint,
            // Commands addressed by authorization learn their account from it, never from a stray account_id.
            AccountId = byAuthorization ? "" : command.AccountId ?? "",
            AccountKey = byAuthorization ? UInt128.Zero : command.AccountKey,
            // An empty authorization_id means "none" (a refund not linked to an authorization); its key is 0 then.
            AuthorizationId = string.IsNullOrEmpty(command.AuthorizationId) ? null : command.AuthorizationId,
            AuthorizationKey = command.AuthorizationKey,
            KeysStamped = true,
            AmountMinor = command.AmountMinor,
            MerchantId = command.MerchantId,
            Mcc = (short)command.Mcc,
            Reason = command.Reason,
            Final = command.Final,
        };
        switch (command.Type)
        {
            case CommandType.OpenAccount: DecideOpenAccount(command, ref outcome); break;
            case CommandType.ChangeLimit: DecideChangeLimit(command, ref outcome); break;
            case CommandType.SetTemporaryLimit: DecideSetTemporaryLimit(command, ref outcome); break;
            case CommandType.Freeze:
            case CommandType.Unfreeze: DecideFreeze(command, ref outcome); break;
            case CommandType.CloseAccount: DecideCloseAccount(ref outcome); break;
            case CommandType.SetSpendingControls: DecideSetSpendingControls(command, ref outcome); break;
            case CommandType.Authorize: DecideAuthorize(command, ref outcome); break;
            case CommandType.IncrementAuthorization: DecideIncrement(command, ref outcome); break;
            case CommandType.Capture: DecideCapture(command, ref outcome); break;
            case CommandType.Void: DecideVoid(command, ref outcome); break;
            case CommandType.ForcePost: DecidePosting(ref outcome, EventType.ForcePosted, +1); break;
            case CommandType.Refund: DecideRefund(command, ref outcome); break;
            case CommandType.Repay: DecidePosting(ref outcome, EventType.Repaid, -1); break;
            case CommandType.SetBillingTerms: DecideSetBillingTerms(command, ref outcome); break;
            case CommandType.ScheduleDues: DecideScheduleDues(command, ref outcome); break;
            case CommandType.SetDelinquencyPolicy: DecideSetDelinquencyPolicy(command, ref outcome); break;
            case CommandType.TopUp: DecideTopUp(command, ref outcome); break;
            case CommandType.ReleaseDeposit: DecideReleaseDeposit(command, ref outcome); break;
            case CommandType.ApplyDeposit: DecideApplyDeposit(command, ref outcome); break;
            case CommandType.PayOut: DecidePayOut(command, ref outcome); break;
            case CommandType.AdvanceClock: DecideAdvanceClock(ref outcome); break;
            default: throw new ArgumentException($"command type {command.Type} cannot be decided", nameof(command));
        }
        if (outcome.Status == Status.Ok && outcome.Type is EventType.AccountOpened or EventType.Repaid) DecorateLifecycle(command, ref outcome);
        return outcome;
    }

    private static bool IsAddressedByAuthorization(CommandType type) =>
        type is CommandType.IncrementAuthorization or CommandType.Capture or CommandType.Void;

    private void DecideOpenAccount(in Command command, ref LedgerEvent outcome)
    {
        if (TryFindAccount(command.AccountKey, out int existing)) { DeclineFor(ref outcome, Status.AccountExists, existing); return; }
        if (_accountCount >= Options.MaxAccounts || !AccountIndexHasRoom) { Decline(ref outcome, Status.EngineCapacityExceeded); return; }
        outcome.Type = EventType.AccountOpened;
        outcome.CustomerId = command.CustomerId;
        outcome.CurrencyCode = CurrencyCode.Pack(command.Currency);
        outcome.OvercapturePercent = (byte)command.OvercapturePercent;
        outcome.HeldMinor = 0;
        outcome.PostedMinor = 0;
        outcome.AvailableMinor = command.AmountMinor;
    }

    private void DecideChangeLimit(in Command command, ref LedgerEvent outcome)
    {
        if (!TryActiveOrFrozenAccount(ref outcome, out int index)) return;
        ref readonly Account account = ref AccountAt(index);
        if (!Balances.Representable(command.AmountMinor, account.TemporaryLimitMinor, account.HeldMinor, account.PostedMinor))
        {
            DeclineFor(ref outcome, Status.ArithmeticOverflow, index);
            return;
        }
        Approve(ref outcome, EventType.LimitChanged, command.AmountMinor, account.TemporaryLimitMinor, account.TemporaryLimitExpiresAtUnixMs, account.HeldMinor, account.PostedMinor);
    }

    private void DecideSetTemporaryLimit(in Command command, ref LedgerEvent outcome)
    {
        if (!TryActiveOrFrozenAccount(ref outcome, out int index)) return;
        ref readonly Account account = ref AccountAt(index);
        long expiresAt = command.AmountMinor == 0 ? 0 : command.ExpiresAtUnixMs;
        if (!Balances.Representable(account.CreditLimitMinor, command.AmountMinor, account.HeldMinor, account.PostedMinor))
        {
            DeclineFor(ref outcome, Status.ArithmeticOverflow, index);
            return;
        }
        outcome.ExpiresAtUnixMs = expiresAt;
        Approve(ref outcome, EventType.TemporaryLimitSet, account.CreditLimitMinor, command.AmountMinor, expiresAt, account.HeldMinor, account.PostedMinor);
    }

    private void DecideFreeze(in Command command, ref LedgerEvent outcome)
    {
        if (!TryActiveOrFrozenAccount(ref outcome, out int index)) return;
        ref readonly Account account = ref AccountAt(index);
        EventType type = command.Type == CommandType.Freeze ? EventType.AccountFrozen : EventType.AccountUnfrozen;
        outcome.AmountMinor = 0;
        ApproveUnchanged(ref outcome, type, account);
    }

    private void DecideCloseAccount(ref LedgerEvent outcome)
    {
        if (!TryActiveOrFrozenAccount(ref outcome, out int index)) return;
        ref readonly Account account = ref AccountAt(index);
        if (account.HeldMinor != 0 || account.PostedMinor != 0 || account.Lifecycle is { DepositMinor: not 0 }) { DeclineFor(ref outcome, Status.AccountHasBalance, index); return; }
        outcome.AmountMinor = 0;
        ApproveUnchanged(ref outcome, EventType.AccountClosed, account);
    }

    private void DecideSetSpendingControls(in Command command, ref LedgerEvent outcome)
    {
        if (!TryActiveOrFrozenAccount(ref outcome, out int index)) return;
        outcome.Controls = command.Controls;
        outcome.AmountMinor = 0;
        ApproveUnchanged(ref outcome, EventType.SpendingControlsSet, AccountAt(index));
    }

    private void DecideAuthorize(in Command command, ref LedgerEvent outcome)
    {
        // Order of checks follows issuer processors: existence and status, then request shape against
        // the account (currency, merchant category), then controls, then credit.
        if (!TryAccount(ref outcome, out int index)) return;
        ref readonly Account account = ref AccountAt(index);
        outcome.CurrencyCode = CurrencyCode.Pack(command.Currency);
        Status status = CheckCanAuthorize(account, outcome.TimestampUnixMs);
        if (status == Status.Ok && outcome.CurrencyCode != account.CurrencyCode) status = Status.CurrencyMismatch;
        if (status == Status.Ok && account.Controls is { } controls)
        {
            status = controls.Spec.IsMccBlocked(command.Mcc) ? Status.MerchantCategoryBlocked : CheckControls(controls, command.AmountMinor, 1, outcome.TimestampUnixMs);
        }
        // An authorization id must name one authorization: a request id reused after the idempotency
        // window while its authorization is still known is refused, not merged.
        if (status == Status.Ok && _authorizations.Contains(command.RequestKey)) status = Status.RequestIdReused;
        // A full authorization table refuses, journaled like any decline, instead of failing the insert in Apply.
        if (status == Status.Ok && !_authorizations.HasRoom) status = Status.EngineCapacityExceeded;
        if (status == Status.Ok && account.OpenAuthorizations >= Options.MaxOpenAuthorizationsPerAccount) status = Status.OpenAuthorizationLimitExceeded;
        if (status == Status.Ok) status = CheckHoldIncrease(account, command.AmountMinor, outcome.TimestampUnixMs);
        if (status != Status.Ok) { DeclineFor(ref outcome, status, index); return; }

        outcome.AuthorizationId = command.RequestId;
        outcome.AuthorizationKey = command.RequestKey;
        int expiresInSeconds = command.ExpiresInSeconds > 0 ? command.ExpiresInSeconds : Options.DefaultHoldExpirySeconds;
        outcome.ExpiresAtUnixMs = outcome.TimestampUnixMs + expiresInSeconds * 1000L;
        Approve(ref outcome, EventType.Authorized, account.CreditLimitMinor, account.TemporaryLimitMinor, account.TemporaryLimitExpiresAtUnixMs, account.HeldMinor + command.AmountMinor, account.PostedMinor);
    }

    private void DecideIncrement(in Command command, ref LedgerEvent outcome)
    {
        if (!TryOpenAuthorization(ref outcome, out int slot)) return;
        ref readonly AuthorizationRecord authorization = ref _authorizations.At(slot);
        ref readonly Account account = ref AccountAt(authorization.AccountIndex);
        Status status = CheckCanAuthorize(account, outcome.TimestampUnixMs);
        if (status == Status.Ok && account.Controls is { } controls)
        {
            Int128 newTotal = (Int128)authorization.AuthorizedMinor + command.AmountMinor;
            long cap = controls.Spec.MaxAuthorizationAmountMinor;
            status = cap > 0 && newTotal > cap ? Status.AmountLimitExceeded : CheckControls(controls, command.AmountMinor, 0, outcome.TimestampUnixMs);
        }
        if (status == Status.Ok && !Balances.FitsInt64((Int128)authorization.AuthorizedMinor + command.AmountMinor)) status = Status.ArithmeticOverflow;
        if (status == Status.Ok) status = CheckHoldIncrease(account, command.AmountMinor, outcome.TimestampUnixMs);
        if (status != Status.Ok) { DeclineFor(ref outcome, status, authorization.AccountIndex); return; }
        Approve(ref outcome, EventType.AuthorizationIncreased, account.CreditLimitMinor, account.TemporaryLimitMinor, account.TemporaryLimitExpiresAtUnixMs, account.HeldMinor + command.AmountMinor, account.PostedMinor);
    }

    private void DecideCapture(in Command command, ref LedgerEvent outcome)
    {
        if (!TryFindAuthorization(outcome, out int slot)) { Decline(ref outcome, Status.AuthorizationNotFound); return; }
        ref readonly AuthorizationRecord authorization = ref _authorizations.At(slot);
        NameAccount(ref outcome, authorization.AccountIndex);
        // A capture against an expired authorization still posts: clearing arrives late in real life.
        Status status = authorization.State switch
        {
            AuthorizationState.Voided => Status.AuthorizationVoided,
            AuthorizationState.Closed => Status.AuthorizationClosed,
            _ => Status.Ok,
        };
        ref readonly Account account = ref AccountAt(authorization.AccountIndex);
        if (status == Status.Ok && account.Status == AccountStatus.Closed) status = Status.AccountClosed;
        // Over-capture tolerance: captured in total ≤ (authorized − reversed) × (1 + overcapture_percent / 100).
        // Reversals (voids, partial ones included) lower the base: what the merchant gave back cannot be captured.
        Int128 capturedAfter = (Int128)authorization.CapturedMinor + command.AmountMinor;
        long capturableMinor = authorization.AuthorizedMinor - authorization.ReversedMinor;
        Debug.Assert(capturableMinor >= 0, "reversals never exceed what was authorized");
        Int128 tolerance = (Int128)capturableMinor * (100 + account.OvercapturePercent);
        if (status == Status.Ok && capturedAfter * 100 > tolerance) status = Status.CaptureExceedsAuthorization;
        // Captured is a counter like the balances: with a large authorization and over-capture it could pass int64.
        if (status == Status.Ok && !Balances.FitsInt64(capturedAfter)) status = Status.ArithmeticOverflow;

        long holdRelease = Math.Min(command.AmountMinor, authorization.HeldMinor);
        bool closes = command.Final || capturedAfter >= capturableMinor
            || (authorization.State == AuthorizationState.Open && authorization.HeldMinor - holdRelease == 0);
        if (closes) holdRelease = authorization.HeldMinor;
        Int128 postedAfter = (Int128)account.PostedMinor + command.AmountMinor;
        if (status == Status.Ok && !Balances.Representable(account.CreditLimitMinor, account.TemporaryLimitMinor, account.HeldMinor - holdRelease, postedAfter))
            status = Status.ArithmeticOverflow;
        if (status != Status.Ok) { DeclineFor(ref outcome, status, authorization.AccountIndex); return; }

        outcome.HoldReleasedMinor = holdRelease;
        outcome.AuthorizationClosed = closes;
        Approve(ref outcome, EventType.Captured, account.CreditLimitMinor, account.TemporaryLimitMinor, account.TemporaryLimitExpiresAtUnixMs, account.HeldMinor - holdRelease, (long)postedAfter);
    }

    private void DecideVoid(in Command command, ref LedgerEvent outcome)
    {
        if (!TryOpenAuthorization(ref outcome, out int slot)) return;
        ref readonly AuthorizationRecord authorization = ref _authorizations.At(slot);
        ref readonly Account account = ref AccountAt(authorization.AccountIndex);
        long release = command.AmountMinor == 0 ? authorization.HeldMinor : command.AmountMinor;
        if (release > authorization.HeldMinor) { DeclineFor(ref outcome, Status.AmountExceedsHold, authorization.AccountIndex); return; }
        outcome.AmountMinor = release;
        outcome.HoldReleasedMinor = release;
        outcome.AuthorizationClosed = release == authorization.HeldMinor;
        Approve(ref outcome, EventType.Voided, account.CreditLimitMinor, account.TemporaryLimitMinor, account.TemporaryLimitExpiresAtUnixMs, account.HeldMinor - release, account.PostedMinor);
    }

    /// <summary>ForcePost (+1) and Repay (−1): post to an active or frozen account; never refused for lack of credit.</summary>
    private void DecidePosting(ref LedgerEvent outcome, EventType type, int sign)
    {
        if (!TryActiveOrFrozenAccount(ref outcome, out int index)) return;
        ref readonly Account account = ref AccountAt(index);
        Int128 postedAfter = (Int128)account.PostedMinor + sign * (Int128)outcome.AmountMinor;
        if (!Balances.Representable(account.CreditLimitMinor, account.TemporaryLimitMinor, account.HeldMinor, postedAfter))
        {
            DeclineFor(ref outcome, Status.ArithmeticOverflow, index);
            return;
        }
        Approve(ref outcome, type, account.CreditLimitMinor, account.TemporaryLimitMinor, account.TemporaryLimitExpiresAtUnixMs, account.HeldMinor, (long)postedAfter);
    }

    private void DecideRefund(in Command command, ref LedgerEvent outcome)
    {
        if (!TryActiveOrFrozenAccount(ref outcome, out int index)) return;
        if (outcome.AuthorizationId is not null)
        {
            // A linked refund must name an authorization of this account and stay within what was captured on it.
            if (!TryFindAuthorization(outcome, out int slot) || _authorizations.At(slot).AccountIndex != index)
            {
                DeclineFor(ref outcome, Status.AuthorizationNotFound, index);
                return;
            }
            ref readonly AuthorizationRecord authorization = ref _authorizations.At(slot);
            if ((Int128)authorization.RefundedMinor + command.AmountMinor > authorization.CapturedMinor)
            {
                DeclineFor(ref outcome, Status.RefundExceedsCapture, index);
                return;
            }
        }
        DecidePosting(ref outcome, EventType.Refunded, -1);
    }

    // ----- shared checks -----

    private static Status CheckCanAuthorize(in Account account, long now) => account.Status switch
    {
        AccountStatus.Closed => Status.AccountClosed,
        AccountStatus.Frozen => Status.AccountFrozen,
        // The automatic delinquency freeze, tracked apart from the manual one (LIFECYCLE.md "Cure").
        _ => account.Lifecycle is { Stage: >= DelinquencyStage.FrozenDelinquent } ? Status.AccountFrozen : Status.Ok,
    };

    private static Status CheckControls(AccountControls controls, long amountMinor, int count, long now)
    {
        SpendingControls spec = controls.Spec;
        if (count > 0 && spec.MaxAuthorizationAmountMinor > 0 && amountMinor > spec.MaxAuthorizationAmountMinor) return Status.AmountLimitExceeded;
        if (spec.VelocityMaxCount == 0 && spec.VelocityMaxAmountMinor == 0) return Status.Ok;
        (int usedCount, long usedAmount) = controls.UsageAt(now);
        if (spec.VelocityMaxCount > 0 && usedCount + count > spec.VelocityMaxCount) return Status.VelocityLimitExceeded;
        if (spec.VelocityMaxAmountMinor > 0 && (Int128)usedAmount + amountMinor > spec.VelocityMaxAmountMinor) return Status.VelocityLimitExceeded;
        return Status.Ok;
    }

    /// <summary>Overflow, then credit: would holding <paramref name="amountMinor"/> more fit the available credit?</summary>
    private static Status CheckHoldIncrease(in Account account, long amountMinor, long now)
    {
        Int128 heldAfter = (Int128)account.HeldMinor + amountMinor;
        if (!Balances.Representable(account.CreditLimitMinor, account.TemporaryLimitMinor, heldAfter, account.PostedMinor)) return Status.ArithmeticOverflow;
        return amountMinor > account.Available(now) ? Status.InsufficientCredit : Status.Ok;
    }

    private bool TryAccount(ref LedgerEvent outcome, out int index)
    {
        if (TryFindAccount(outcome.AccountKey, out index))
        {
            Debug.Assert(AccountAt(index).Id == outcome.AccountId, "two account ids with one 128-bit key");
            _lastLookedUpAccountKey = outcome.AccountKey;
            _lastLookedUpAccountIndex = index;
            return true;
        }
        Decline(ref outcome, Status.AccountNotFound);
        return false;
    }

    /// <summary>Finds the account and refuses closed ones (frozen accounts still take postings and admin changes).</summary>
    private bool TryActiveOrFrozenAccount(ref LedgerEvent outcome, out int index)
    {
        if (!TryAccount(ref outcome, out index)) return false;
        if (AccountAt(index).Status != AccountStatus.Closed) return true;
        DeclineFor(ref outcome, Status.AccountClosed, index);
        return false;
    }

    /// <summary>Finds an authorization that is still open; names the account in the outcome either way.</summary>
    private bool TryOpenAuthorization(ref LedgerEvent outcome, out int slot)
    {
        if (!TryFindAuthorization(outcome, out slot)) { Decline(ref outcome, Status.AuthorizationNotFound); return false; }
        ref readonly AuthorizationRecord authorization = ref _authorizations.At(slot);
        NameAccount(ref outcome, authorization.AccountIndex);
        Status status = authorization.State switch
        {
            AuthorizationState.Open => Status.Ok,
            AuthorizationState.Voided => Status.AuthorizationVoided,
            _ => Status.AuthorizationClosed,
        };
        if (status == Status.Ok) return true;
        DeclineFor(ref outcome, status, authorization.AccountIndex);
        slot = -1;
        return false;
    }

    private bool TryFindAuthorization(in LedgerEvent outcome, out int slot)
    {
        if (!_authorizations.TryFind(outcome.AuthorizationKey, out slot)) return false;
        Debug.Assert(_authorizations.At(slot).Id == outcome.AuthorizationId, "two authorization ids with one 128-bit key");
        return true;
    }

    /// <summary>Names the account in the outcome, id and key together.</summary>
    private void NameAccount(ref LedgerEvent outcome, int accountIndex)
    {
        ref readonly Account account = ref AccountAt(accountIndex);
        outcome.AccountId = account.Id;
        outcome.AccountKey = account.Key;
    }

    private void Approve(ref LedgerEvent outcome, EventType type, long creditLimit, long temporaryLimit, long temporaryLimitExpiresAt, long heldAfter, long postedAfter)
    {
        outcome.Type = type;
        outcome.Status = Status.Ok;
        outcome.HeldMinor = heldAfter;
        outcome.PostedMinor = postedAfter;
        long activeTemporary = temporaryLimit > 0 && outcome.TimestampUnixMs < temporaryLimitExpiresAt ? temporaryLimit : 0;
        outcome.AvailableMinor = (long)Balances.Available(creditLimit, activeTemporary, heldAfter, postedAfter);
    }

    private void ApproveUnchanged(ref LedgerEvent outcome, EventType type, in Account account) =>
        Approve(ref outcome, type, account.CreditLimitMinor, account.TemporaryLimitMinor, account.TemporaryLimitExpiresAtUnixMs, account.HeldMinor, account.PostedMinor);

    /// <summary>A decline naming an account: carries its balances at the moment of the decision.</summary>
    private void DeclineFor(ref LedgerEvent outcome, Status status, int accountIndex)
    {
        ref readonly Account account = ref AccountAt(accountIndex);
        outcome.Type = EventType.Declined;
        outcome.Status = status;
        outcome.AccountId = account.Id;
        outcome.AccountKey = account.Key;
        outcome.HeldMinor = account.HeldMinor;
        outcome.PostedMinor = account.PostedMinor;
        outcome.AvailableMinor = account.Available(outcome.TimestampUnixMs);
        ClearApprovalDetails(ref outcome);
    }

    /// <summary>A decline with no known account: balances are zero.</summary>
    private static void Decline(ref LedgerEvent outcome, Status status)
    {
        outcome.Type = EventType.Declined;
        outcome.Status = status;
        outcome.HeldMinor = 0;
        outcome.PostedMinor = 0;
        outcome.AvailableMinor = 0;
        ClearApprovalDetails(ref outcome);
    }

    // A declined event records what was asked (amount, ids) but none of what an approval would have set.
    private static void ClearApprovalDetails(ref LedgerEvent outcome)
    {
        outcome.HoldReleasedMinor = 0;
        outcome.AuthorizationClosed = false;
        outcome.ExpiresAtUnixMs = 0;
        outcome.Controls = null;
        outcome.CustomerId = null;
        outcome.Lifecycle = null;
    }
}
