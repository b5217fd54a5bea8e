using System.Diagnostics;
namespace Engine.Domain;

/// <summary>
/// Apply: the only code that changes ledger state. Used live (right after Decide), on recovery and by
/// read models. After applying, it checks that the account's balances equal the ones the event recorded
/// — always on, because a mismatch means the log and the code disagree about money.
/// </summary>
public sealed partial class Ledger
{
    /// <summary>
    /// Applies an event read from a log. <see cref="EventCodec.Decode"/> stamps its keys; an event built by hand
    /// without them (<see cref="LedgerEvent.KeysStamped"/> false) is stamped here.
    /// </summary>
    public void Apply(in LedgerEvent e)
    {
        if (e.KeysStamped)
        {
            Apply(e, fromLog: true);
            return;
        }
        LedgerEvent stamped = e;
        Fingerprints.StampKeys(ref stamped);
        Apply(stamped, fromLog: true);
    }

    /// <summary>
    /// Apply with the event's keys set (by Decide live, by decoding otherwise): no id is hashed here.
    /// <paramref name="fromLog"/>: the event was read from a log, which may repeat a request id its writer had forgotten.
    /// </summary>
    private void Apply(in LedgerEvent e, bool fromLog)
    {
        Debug.Assert(e.KeysStamped, "Apply needs the event's keys");
        if (e.Sequence != LastSequence + 1)
            throw new LedgerInvariantException($"event sequence {e.Sequence} does not follow {LastSequence}: sequences must be dense");
        if (e.TimestampUnixMs < LastTimestampUnixMs)
            throw new LedgerInvariantException($"event {e.Sequence} goes back in engine time ({e.TimestampUnixMs} < {LastTimestampUnixMs})");

        int accountIndex = -1;
        switch (e.Type)
        {
            case EventType.AccountOpened:
                accountIndex = AddAccount(new Account
                {
                    Id = e.AccountId,
                    Key = e.AccountKey,
                    CustomerId = e.CustomerId ?? "",
                    CreditLimitMinor = e.AmountMinor,
                    CurrencyCode = e.CurrencyCode,
                    OvercapturePercent = e.OvercapturePercent,
                    Status = AccountStatus.Active,
                });
                break;
            case EventType.LimitChanged:
                accountIndex = IndexOf(e);
                AccountAt(accountIndex).CreditLimitMinor = e.AmountMinor;
                break;
            case EventType.TemporaryLimitSet:
            {
                accountIndex = IndexOf(e);
                ref Account account = ref AccountAt(accountIndex);
                account.TemporaryLimitMinor = e.AmountMinor;
                account.TemporaryLimitExpiresAtUnixMs = e.ExpiresAtUnixMs;
                break;
            }
            case EventType.AccountFrozen:
                accountIndex = IndexOf(e);
                AccountAt(accountIndex).Status = AccountStatus.Frozen;
                break;
            case EventType.AccountUnfrozen:
                accountIndex = IndexOf(e);
                AccountAt(accountIndex).Status = AccountStatus.Active;
                break;
            case EventType.AccountClosed:
                accountIndex = IndexOf(e);
                AccountAt(accountIndex).Status = AccountStatus.Closed;
                break;
            case EventType.SpendingControlsSet:
                accountIndex = IndexOf(e);
                ApplyControls(ref AccountAt(accountIndex), e.Controls ?? SpendingControls.None);
                break;
            case EventType.Authorized:
                accountIndex = ApplyAuthorized(e);
                break;
            case EventType.AuthorizationIncreased:
                accountIndex = ApplyIncreased(e);
                break;
            case EventType.Captured:
            case EventType.Voided:
            case EventType.Expired:
                accountIndex = ApplyRelease(e);
                break;
            case EventType.ForcePosted:
                accountIndex = IndexOf(e);
                AccountAt(accountIndex).PostedMinor += e.AmountMinor;
                break;
            case EventType.Refunded:
                accountIndex = IndexOf(e);
                AccountAt(accountIndex).PostedMinor -= e.AmountMinor;
                if (e.AuthorizationId is { } refundedAuthorization)
                {
                    ref AuthorizationRecord refunded = ref _authorizations.At(SlotOf(e));
                    refunded.RefundedMinor = CounterAfter(e, refunded.RefundedMinor, "refunded");
                    if (refunded.RefundedMinor > refunded.CapturedMinor)
                        throw new LedgerInvariantException($"event {e.Sequence}: refunds {refunded.RefundedMinor} of {refundedAuthorization}, more than its {refunded.CapturedMinor} captured");
                }
                break;
            case EventType.Repaid:
                accountIndex = IndexOf(e);
                AccountAt(accountIndex).PostedMinor -= e.AmountMinor;
                break;
            case EventType.Declined:
                if (!TryFindAccount(e.AccountKey, out accountIndex)) accountIndex = -1;
                break;
            case >= EventType.BillingTermsSet and <= EventType.ClockAdvanced:
                accountIndex = ApplyLifecycleEvent(e);
                break;
            default:
                throw new LedgerInvariantException($"event {e.Sequence} has unknown type {(int)e.Type}");
        }
        if (accountIndex >= 0 && e.Type != EventType.Declined && (AccountAt(accountIndex).Lifecycle is not null || e.Lifecycle is not null) && !LeavesLifecycleAlone(e))
            AfterLifecycleApply(e, accountIndex);

        VerifyRecordedBalances(e, accountIndex);
        LastSequence = e.Sequence;
        LastTimestampUnixMs = e.TimestampUnixMs;
        if (e.RequestId.Length > 0)
        {
            _idempotency.Add(e.RequestKey, new IdempotencyRecord
            {
                PayloadFingerprint = e.PayloadFingerprint,
                Sequence = e.Sequence,
                TimestampUnixMs = e.TimestampUnixMs,
                AvailableMinor = e.AvailableMinor,
                HeldMinor = e.HeldMinor,
                PostedMinor = e.PostedMinor,
                Status = e.Status,
            }, fromLog);
        }
        RetireAuthorizations(e.TimestampUnixMs);
    }

    private int ApplyAuthorized(in LedgerEvent e)
    {
        int index = IndexOf(e);
        ref Account account = ref AccountAt(index);
        Debug.Assert(e.AuthorizationId is null || e.AuthorizationKey == Fingerprints.IdKey(e.AuthorizationId), "an authorization's key is the IdKey of its id");
        int slot = _authorizations.Add(new AuthorizationRecord
        {
            Id = e.AuthorizationId ?? throw new LedgerInvariantException($"event {e.Sequence}: Authorized without authorization id"),
            Key = e.AuthorizationKey,
            AccountIndex = index,
            CreatedSequence = e.Sequence,
            AuthorizedMinor = e.AmountMinor,
            HeldMinor = e.AmountMinor,
            ExpiresAtUnixMs = e.ExpiresAtUnixMs,
            State = AuthorizationState.Open,
        });
        _expiryHeap.Add(slot);
        account.HeldMinor += e.AmountMinor;
        account.OpenAuthorizations++;
        account.Controls?.Record(e.TimestampUnixMs, 1, e.AmountMinor);
        return index;
    }

    private int ApplyIncreased(in LedgerEvent e)
    {
        ref AuthorizationRecord authorization = ref _authorizations.At(SlotOf(e));
        if (authorization.State != AuthorizationState.Open) throw new LedgerInvariantException($"event {e.Sequence}: increase of {authorization.State} authorization {authorization.Id}");
        ref Account account = ref AccountAt(authorization.AccountIndex);
        authorization.AuthorizedMinor += e.AmountMinor;
        authorization.HeldMinor += e.AmountMinor;
        account.HeldMinor += e.AmountMinor;
        account.Controls?.Record(e.TimestampUnixMs, 0, e.AmountMinor);
        return authorization.AccountIndex;
    }

    /// <summary>Captured, Voided, Expired: release hold, post what was captured, and close when the event says so.</summary>
    private int ApplyRelease(in LedgerEvent e)
    {
        int slot = SlotOf(e);
        ref AuthorizationRecord authorization = ref _authorizations.At(slot);
        ref Account account = ref AccountAt(authorization.AccountIndex);
        if (e.HoldReleasedMinor < 0 || e.HoldReleasedMinor > authorization.HeldMinor)
            throw new LedgerInvariantException($"event {e.Sequence}: releases {e.HoldReleasedMinor} of a {authorization.HeldMinor} hold on {authorization.Id}");
        authorization.HeldMinor -= e.HoldReleasedMinor;
        account.HeldMinor -= e.HoldReleasedMinor;
        if (e.Type == EventType.Voided) authorization.ReversedMinor = CounterAfter(e, authorization.ReversedMinor, "reversed", e.HoldReleasedMinor);
        if (e.Type == EventType.Captured)
        {
            authorization.CapturedMinor = CounterAfter(e, authorization.CapturedMinor, "captured");
            account.PostedMinor += e.AmountMinor;
        }
        if (e.AuthorizationClosed)
        {
            if (authorization.HeldMinor != 0) throw new LedgerInvariantException($"event {e.Sequence}: closes {authorization.Id} with {authorization.HeldMinor} still held");
            AuthorizationState closedAs = e.Type switch
            {
                EventType.Expired => AuthorizationState.Expired,
                EventType.Voided when authorization.CapturedMinor == 0 => AuthorizationState.Voided,
                _ => AuthorizationState.Closed,
            };
            if (authorization.State == AuthorizationState.Open)
            {
                _expiryHeap.Remove(slot);
                account.OpenAuthorizations--;
                authorization.ClosedAtUnixMs = e.TimestampUnixMs;
                _retired.Enqueue(slot);
            }
            authorization.State = closedAs;
        }
        return authorization.AccountIndex;
    }

    /// <summary>
    /// A per-authorization counter (captured, refunded, reversed) after adding the event's amount, range-checked like
    /// the balances: always on, because a wrapped counter would silently change what may be captured or refunded.
    /// </summary>
    private static long CounterAfter(in LedgerEvent e, long counterMinor, string counterName, long? addedMinor = null)
    {
        Int128 after = (Int128)counterMinor + (addedMinor ?? e.AmountMinor);
        if (after < 0 || !Balances.FitsInt64(after))
            throw new LedgerInvariantException($"event {e.Sequence}: {counterName} on {e.AuthorizationId} would be {after}, outside 0..int64");
        return (long)after;
    }

    private static void ApplyControls(ref Account account, SpendingControls spec)
    {
        AccountControls? previous = account.Controls;
        if (spec == SpendingControls.None) { account.Controls = null; return; }
        // The running velocity window survives a change of limits: tightening a limit mid-window counts what was already spent.
        var controls = new AccountControls(spec);
        if (previous is not null)
        {
            controls.WindowStartUnixMs = previous.WindowStartUnixMs;
            controls.WindowCount = previous.WindowCount;
            controls.WindowAmountMinor = previous.WindowAmountMinor;
        }
        account.Controls = controls;
    }

    /// <summary>
    /// How many closed authorizations one event may retire: more than one, so retirement outruns closing (at most one
    /// authorization closes per event) and the queue drains after a burst; few, so each apply stays O(1).
    /// </summary>
    private const int RetirementsPerApplyMax = 4;

    /// <summary>Forgets closed authorizations past retention (a few per event, so each apply stays O(1)).</summary>
    private void RetireAuthorizations(long now)
    {
        for (int i = 0; i < RetirementsPerApplyMax && _retired.Count > 0; i++)
        {
            int oldest = _retired.Peek();
            bool expired = now - _authorizations.At(oldest).ClosedAtUnixMs > Options.ClosedAuthorizationRetentionMs;
            if (!expired && _retired.Count <= Options.ClosedAuthorizationsMax) return;
            _retired.Dequeue();
            _authorizations.Remove(oldest);
            AuthorizationsForgotten++;
        }
    }

    /// <summary>
    /// What Apply assumes of the account an event touched (debug builds; <see cref="CheckInvariants"/> is the full,
    /// always-available check): counters in range, no hold without an open authorization, balances representable.
    /// </summary>
    [Conditional("DEBUG")]
    private void AssertAccountInvariants(int accountIndex)
    {
        if (accountIndex < 0) return;
        ref readonly Account account = ref AccountAt(accountIndex);
        Debug.Assert(account.OpenAuthorizations >= 0, "open authorizations are counted up and down in pairs");
        Debug.Assert(account.OpenAuthorizations > 0 || account.HeldMinor == 0, "no hold without an open authorization");
        Debug.Assert(Balances.Representable(account.CreditLimitMinor, account.TemporaryLimitMinor, account.HeldMinor, account.PostedMinor),
            "every balance stays within int64");
        Debug.Assert(_accountIndex.TryGetValue(account.Key, out long indexed) && indexed == accountIndex, "the account index points back at the account");
    }

    private void VerifyRecordedBalances(in LedgerEvent e, int accountIndex)
    {
        AssertAccountInvariants(accountIndex);
        long held = 0, posted = 0, available = 0;
        if (accountIndex >= 0)
        {
            ref readonly Account account = ref AccountAt(accountIndex);
            held = account.HeldMinor;
            posted = account.PostedMinor;
            available = account.Available(e.TimestampUnixMs);
            if (account.HeldMinor < 0) throw new LedgerInvariantException($"event {e.Sequence}: account {account.Id} held went negative");
        }
        if (held != e.HeldMinor || posted != e.PostedMinor || available != e.AvailableMinor)
        {
            throw new LedgerInvariantException(
                $"event {e.Sequence} ({e.Type}) recorded held={e.HeldMinor} posted={e.PostedMinor} available={e.AvailableMinor} " +
                $"but applying it gives held={held} posted={posted} available={available}");
        }
    }

    private int IndexOf(in LedgerEvent e)
    {
        // Live, Decide has just looked this very account up and says where: reuse it when it names the same key.
        int decided = e.DecidedAccountIndexPlusOne - 1;
        if ((uint)decided < (uint)_accountCount && AccountAt(decided).Key == e.AccountKey) return decided;
        if (!TryFindAccount(e.AccountKey, out int index))
            throw new LedgerInvariantException($"event {e.Sequence} ({e.Type}) names unknown account '{e.AccountId}'");
        Debug.Assert(AccountAt(index).Id == e.AccountId, "two account ids with one 128-bit key");
        return index;
    }

    private int SlotOf(in LedgerEvent e)
    {
        if (e.AuthorizationId is null || !_authorizations.TryFind(e.AuthorizationKey, out int slot))
            throw new LedgerInvariantException($"event {e.Sequence} names unknown authorization '{e.AuthorizationId}'");
        Debug.Assert(_authorizations.At(slot).IdEquals(e.AuthorizationId), "two authorization ids with one 128-bit key");
        return slot;
    }
}
