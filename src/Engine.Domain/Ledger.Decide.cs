using System.Diagnostics;
namespace Engine.Domain;

/// <summary>
/// Decide: command + state + engine time → the outcome event. Reads state, never writes it. Every
/// outcome, approvals and declines alike, becomes exactly one event carrying the balances after it.
/// </summary>
public sealed partial class Ledger
{
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
            Actor = command.Actor,
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
        AssertDecided(outcome);
        return outcome;
    }

    /// <summary>
    /// Postconditions of every decision (debug builds): an approval carries representable balances of a named account;
    /// a decline carries none of what an approval would have set.
    /// </summary>
    [Conditional("DEBUG")]
    private static void AssertDecided(in LedgerEvent outcome)
    {
        Debug.Assert((outcome.Type == EventType.Declined) == (outcome.Status != Status.Ok), "declined exactly when refused");
        Debug.Assert(outcome.HeldMinor >= 0, "held is never negative");
        if (outcome.Type == EventType.Declined)
        {
            Debug.Assert(outcome.HoldReleasedMinor == 0 && !outcome.AuthorizationClosed && outcome.ExpiresAtUnixMs == 0 && outcome.Controls is null
                && outcome.PreviousAmountMinor is null,
                "a decline records what was asked, not what an approval would have set");
            return;
        }
        Debug.Assert(outcome.AccountKey != UInt128.Zero || outcome.Type == EventType.ClockAdvanced, "an approval names its account (moving the clock names none)");
        Debug.Assert(outcome.HoldReleasedMinor >= 0 && outcome.HoldReleasedMinor <= outcome.AmountMinor || outcome.Type == EventType.Captured,
            "a release never exceeds the amount released (a capture may release the whole remaining hold)");
    }

    private static bool IsAddressedByAuthorization(CommandType type) =>
        type is CommandType.IncrementAuthorization or CommandType.Capture or CommandType.Void;

    private void DecideOpenAccount(in Command command, ref LedgerEvent outcome)
    {
        if (TryFindAccount(command.AccountKey, out int existing)) { DeclineFor(ref outcome, Status.AccountExists, existing); return; }
        if (_accountCount >= Options.AccountsMax || !AccountIndexHasRoom) { Decline(ref outcome, Status.EngineCapacityExceeded); return; }
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
        outcome.PreviousAmountMinor = account.CreditLimitMinor;
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
        outcome.PreviousAmountMinor = account.TemporaryLimitMinor;
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
        if (!TryAccount(ref outcome, out int index)) return;
        ref readonly Account account = ref AccountAt(index);
        outcome.CurrencyCode = CurrencyCode.Pack(command.Currency);
        Status refusal = AuthorizeRefusal(command, account, outcome.CurrencyCode, outcome.TimestampUnixMs);
        if (refusal != Status.Ok) { DeclineFor(ref outcome, refusal, index); return; }

        outcome.AuthorizationId = command.RequestId;
        outcome.AuthorizationKey = command.RequestKey;
        int expiresInSeconds = command.ExpiresInSeconds > 0 ? command.ExpiresInSeconds : Options.DefaultHoldExpirySeconds;
        outcome.ExpiresAtUnixMs = outcome.TimestampUnixMs + expiresInSeconds * 1000L;
        Approve(ref outcome, EventType.Authorized, account.CreditLimitMinor, account.TemporaryLimitMinor, account.TemporaryLimitExpiresAtUnixMs, account.HeldMinor + command.AmountMinor, account.PostedMinor);
    }

    /// <summary>
    /// Why an authorization would be refused, or <see cref="Status.Ok"/>. The order follows issuer processors:
    /// status, then the request's shape against the account (currency, merchant category), then controls, then the
    /// engine's own bounds, then credit. Reads state, changes nothing.
    /// </summary>
    private Status AuthorizeRefusal(in Command command, in Account account, ushort currencyCode, long now)
    {
        Status status = CheckCanAuthorize(account);
        if (status != Status.Ok) return status;
        if (currencyCode != account.CurrencyCode) return Status.CurrencyMismatch;
        if (account.Controls is { } controls)
        {
            if (controls.Spec.IsMccBlocked(command.Mcc)) return Status.MerchantCategoryBlocked;
            status = CheckControls(controls, command.AmountMinor, 1, now);
            if (status != Status.Ok) return status;
        }
        // An authorization id must name one authorization: a request id reused after the idempotency
        // window while its authorization is still known is refused, not merged.
        if (_authorizations.Contains(command.RequestKey)) return Status.RequestIdReused;
        // A full authorization table refuses, journaled like any decline, instead of failing the insert in Apply.
        if (!_authorizations.HasRoom) return Status.EngineCapacityExceeded;
        if (account.OpenAuthorizations >= Options.OpenAuthorizationsPerAccountMax) return Status.OpenAuthorizationLimitExceeded;
        return CheckHoldIncrease(account, command.AmountMinor, now);
    }

    private void DecideIncrement(in Command command, ref LedgerEvent outcome)
    {
        if (!TryOpenAuthorization(ref outcome, out int slot)) return;
        ref readonly AuthorizationRecord authorization = ref _authorizations.At(slot);
        ref readonly Account account = ref AccountAt(authorization.AccountIndex);
        Status refusal = IncrementRefusal(command, authorization, account, outcome.TimestampUnixMs);
        if (refusal != Status.Ok) { DeclineFor(ref outcome, refusal, authorization.AccountIndex); return; }
        Approve(ref outcome, EventType.AuthorizationIncreased, account.CreditLimitMinor, account.TemporaryLimitMinor, account.TemporaryLimitExpiresAtUnixMs, account.HeldMinor + command.AmountMinor, account.PostedMinor);
    }

    /// <summary>Why raising an open authorization would be refused: status, the per-authorization cap, velocity, overflow, credit.</summary>
    private static Status IncrementRefusal(in Command command, in AuthorizationRecord authorization, in Account account, long now)
    {
        Debug.Assert(authorization.State == AuthorizationState.Open, "only an open authorization is raised");
        Status status = CheckCanAuthorize(account);
        if (status != Status.Ok) return status;
        Int128 newTotal = (Int128)authorization.AuthorizedMinor + command.AmountMinor;
        if (account.Controls is { } controls)
        {
            long cap = controls.Spec.MaxAuthorizationAmountMinor;
            if (cap > 0 && newTotal > cap) return Status.AmountLimitExceeded;
            // An increment adds amount to the velocity window but is not a new authorization: count 0.
            status = CheckControls(controls, command.AmountMinor, 0, now);
            if (status != Status.Ok) return status;
        }
        if (!Balances.FitsInt64(newTotal)) return Status.ArithmeticOverflow;
        return CheckHoldIncrease(account, command.AmountMinor, now);
    }

    private void DecideCapture(in Command command, ref LedgerEvent outcome)
    {
        if (!TryFindAuthorization(outcome, out int slot)) { Decline(ref outcome, Status.AuthorizationNotFound); return; }
        ref readonly AuthorizationRecord authorization = ref _authorizations.At(slot);
        NameAccount(ref outcome, authorization.AccountIndex);
        ref readonly Account account = ref AccountAt(authorization.AccountIndex);
        CapturePlan plan = PlanCapture(command, authorization);
        Status refusal = CaptureRefusal(command, authorization, account, plan);
        if (refusal != Status.Ok) { DeclineFor(ref outcome, refusal, authorization.AccountIndex); return; }

        outcome.HoldReleasedMinor = plan.HoldReleaseMinor;
        outcome.AuthorizationClosed = plan.Closes;
        Approve(ref outcome, EventType.Captured, account.CreditLimitMinor, account.TemporaryLimitMinor, account.TemporaryLimitExpiresAtUnixMs,
            account.HeldMinor - plan.HoldReleaseMinor, account.PostedMinor + command.AmountMinor);
    }

    /// <summary>What a capture would do to its authorization: how much hold it releases and whether it closes it.</summary>
    private readonly record struct CapturePlan(Int128 CapturedAfterMinor, long CapturableMinor, long HoldReleaseMinor, bool Closes);

    private static CapturePlan PlanCapture(in Command command, in AuthorizationRecord authorization)
    {
        Int128 capturedAfter = (Int128)authorization.CapturedMinor + command.AmountMinor;
        // Reversals (voids, partial ones included) lower the base: what the merchant gave back cannot be captured.
        long capturable = authorization.AuthorizedMinor - authorization.ReversedMinor;
        Debug.Assert(capturable >= 0, "reversals never exceed what was authorized");
        long holdRelease = Math.Min(command.AmountMinor, authorization.HeldMinor);
        bool closes = command.Final || capturedAfter >= capturable
            || (authorization.State == AuthorizationState.Open && authorization.HeldMinor - holdRelease == 0);
        // A capture that closes the authorization releases all of its remaining hold.
        return new CapturePlan(capturedAfter, capturable, closes ? authorization.HeldMinor : holdRelease, closes);
    }

    /// <summary>
    /// Why a capture would be refused: the authorization's state, the account's, the over-capture tolerance, then
    /// overflow. A capture against an expired authorization still posts: clearing arrives late in real life.
    /// </summary>
    private static Status CaptureRefusal(in Command command, in AuthorizationRecord authorization, in Account account, in CapturePlan plan)
    {
        if (authorization.State == AuthorizationState.Voided) return Status.AuthorizationVoided;
        if (authorization.State == AuthorizationState.Closed) return Status.AuthorizationClosed;
        if (account.Status == AccountStatus.Closed) return Status.AccountClosed;
        // Over-capture tolerance: captured in total ≤ (authorized − reversed) × (1 + overcapture_percent / 100).
        Int128 tolerance = (Int128)plan.CapturableMinor * (100 + account.OvercapturePercent);
        if (plan.CapturedAfterMinor * 100 > tolerance) return Status.CaptureExceedsAuthorization;
        // Captured is a counter like the balances: with a large authorization and over-capture it could pass int64.
        if (!Balances.FitsInt64(plan.CapturedAfterMinor)) return Status.ArithmeticOverflow;
        Int128 postedAfter = (Int128)account.PostedMinor + command.AmountMinor;
        if (!Balances.Representable(account.CreditLimitMinor, account.TemporaryLimitMinor, account.HeldMinor - plan.HoldReleaseMinor, postedAfter))
            return Status.ArithmeticOverflow;
        return Status.Ok;
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
        Status refusal = outcome.AuthorizationId is null ? Status.Ok : LinkedRefundRefusal(command, outcome, index);
        if (refusal != Status.Ok) { DeclineFor(ref outcome, refusal, index); return; }
        DecidePosting(ref outcome, EventType.Refunded, -1);
    }

    /// <summary>A linked refund must name an authorization of this account and stay within what was captured on it.</summary>
    private Status LinkedRefundRefusal(in Command command, in LedgerEvent outcome, int accountIndex)
    {
        if (!TryFindAuthorization(outcome, out int slot)) return Status.AuthorizationNotFound;
        ref readonly AuthorizationRecord authorization = ref _authorizations.At(slot);
        if (authorization.AccountIndex != accountIndex) return Status.AuthorizationNotFound;
        if ((Int128)authorization.RefundedMinor + command.AmountMinor > authorization.CapturedMinor) return Status.RefundExceedsCapture;
        return Status.Ok;
    }

    /// <summary>
    /// The engine's own decision at a tick: the hold of <paramref name="due"/> has expired. Releases all of it and
    /// closes the authorization; what was captured stays posted.
    /// </summary>
    private LedgerEvent DecideExpiry(in AuthorizationRecord due, long now)
    {
        Debug.Assert(due.State == AuthorizationState.Open && due.ExpiresAtUnixMs <= now, "only an open hold past its expiry expires");
        ref readonly Account account = ref AccountAt(due.AccountIndex);
        long heldAfter = account.HeldMinor - due.HeldMinor;
        Debug.Assert(heldAfter >= 0, "an account holds at least each of its open holds");
        return new LedgerEvent
        {
            Sequence = LastSequence + 1,
            TimestampUnixMs = now,
            Type = EventType.Expired,
            Command = CommandType.Tick,
            Status = Status.Ok,
            RequestId = "",
            AccountId = account.Id,
            AccountKey = account.Key,
            DecidedAccountIndexPlusOne = due.AccountIndex + 1,
            AuthorizationId = due.Id,
            AuthorizationKey = due.Key,
            KeysStamped = true,
            AmountMinor = due.HeldMinor,
            HoldReleasedMinor = due.HeldMinor,
            AuthorizationClosed = true,
            HeldMinor = heldAfter,
            PostedMinor = account.PostedMinor,
            AvailableMinor = (long)Balances.Available(account.CreditLimitMinor, account.ActiveTemporaryLimit(now), heldAfter, account.PostedMinor),
        };
    }

    // ----- shared checks -----

    private static Status CheckCanAuthorize(in Account account) => account.Status switch
    {
        AccountStatus.Closed => Status.AccountClosed,
        AccountStatus.Frozen => Status.AccountFrozen,
        // The automatic delinquency freeze, tracked apart from the manual one (docs/LIFECYCLE.md "Cure").
        _ => account.DelinquencyFrozen ? Status.AccountFrozen : Status.Ok,
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
            outcome.DecidedAccountIndexPlusOne = index + 1;
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
        Debug.Assert(_authorizations.At(slot).IdEquals(outcome.AuthorizationId), "two authorization ids with one 128-bit key");
        return true;
    }

    /// <summary>Names the account in the outcome, id and key together.</summary>
    private void NameAccount(ref LedgerEvent outcome, int accountIndex)
    {
        ref readonly Account account = ref AccountAt(accountIndex);
        outcome.AccountId = account.Id;
        outcome.AccountKey = account.Key;
        outcome.DecidedAccountIndexPlusOne = accountIndex + 1;
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
        outcome.DecidedAccountIndexPlusOne = accountIndex + 1;
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
