using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Engine.Domain;

/// <summary>
/// Hashes for idempotency. A request id is remembered as a 128-bit hash (16 bytes instead of a string),
/// and a command's payload as a 64-bit fingerprint. With 128 bits, the chance that any two of 100 million
/// ids collide is about 10⁻²³ — far below the chance of undetected disk corruption.
/// </summary>
public static class Fingerprints
{
    /// <summary>128-bit key of a request id (hash of its UTF-16 code units; ids are ASCII).</summary>
    public static UInt128 RequestKey(ReadOnlySpan<char> requestId) =>
        XxHash128.HashToUInt128(MemoryMarshal.AsBytes(requestId));

    /// <summary>
    /// 128-bit key of any id the ledger indexes (account, authorization): the same function as <see cref="RequestKey"/>,
    /// so an authorization's key is the key of the Authorize request that created it. Null or empty: 0, "none".
    /// </summary>
    public static UInt128 IdKey(string? id) => string.IsNullOrEmpty(id) ? UInt128.Zero : RequestKey(id);

    /// <summary>
    /// Computes the command's keys and payload fingerprint into it, once, on the producer's thread (the edge, the SDK,
    /// the engine's submit path), so the decide thread never hashes a string. Call after the command's last change.
    /// </summary>
    public static void StampKeys(ref Command command) => KeysOf(command).StampOnto(ref command);

    /// <summary>The command's keys and payload fingerprint, to stamp later (<see cref="CommandKeys.StampOnto"/>).</summary>
    public static CommandKeys KeysOf(in Command command) => new(
        command.RequestId is null ? UInt128.Zero : RequestKey(command.RequestId),
        IdKey(command.AccountId),
        IdKey(command.AuthorizationId),
        Payload(command));

    /// <summary>Computes an event's id keys (a decoded or hand-built event) so applying it hashes nothing.</summary>
    public static void StampKeys(ref LedgerEvent e)
    {
        e.RequestKey = string.IsNullOrEmpty(e.RequestId) ? UInt128.Zero : RequestKey(e.RequestId);
        e.AccountKey = IdKey(e.AccountId);
        e.AuthorizationKey = IdKey(e.AuthorizationId);
        e.KeysStamped = true;
    }

    /// <summary>Fingerprint of everything in a command except its request id. Equal payloads give equal fingerprints.</summary>
    public static ulong Payload(in Command command)
    {
        ulong hash = (ulong)command.Type * 0x9E3779B97F4A7C15UL;
        hash = Mix(hash, command.AccountId);
        hash = Mix(hash, command.AuthorizationId);
        hash = Mix(hash, command.CustomerId);
        hash = Mix(hash, command.Currency);
        hash = Mix(hash, command.MerchantId);
        hash = Mix(hash, command.Reason);
        Span<long> numbers =
        [
            command.AmountMinor, command.ExpiresAtUnixMs, command.ExpiresInSeconds, command.Mcc,
            command.OvercapturePercent, command.Final ? 1 : 0,
        ];
        hash = XxHash64.HashToUInt64(MemoryMarshal.AsBytes((ReadOnlySpan<long>)numbers), (long)hash);
        if (command.Controls is { } controls)
        {
            Span<long> control =
            [
                controls.MaxAuthorizationAmountMinor, controls.VelocityMaxCount, controls.VelocityMaxAmountMinor, controls.VelocityWindowSeconds,
            ];
            hash = XxHash64.HashToUInt64(MemoryMarshal.AsBytes((ReadOnlySpan<long>)control), (long)hash);
            hash = XxHash64.HashToUInt64(MemoryMarshal.AsBytes(controls.BlockedMccs.AsSpan()), (long)hash);
        }
        if (command.Billing is { } billing)
        {
            Span<long> terms = [1, (long)billing.Mode, billing.PaymentTermsDays, billing.StatementDay, billing.GraceDays, billing.MinPaymentFloorMinor, billing.MinPaymentPercent];
            hash = XxHash64.HashToUInt64(MemoryMarshal.AsBytes((ReadOnlySpan<long>)terms), (long)hash);
        }
        if (command.Policy is { } policy)
        {
            Span<long> days = [2, policy.RemindBeforeDueDays, policy.WatchAtDays, policy.FreezeAtDays, policy.ChargeOffAtDays];
            hash = XxHash64.HashToUInt64(MemoryMarshal.AsBytes((ReadOnlySpan<long>)days), (long)hash);
        }
        if (command.Dues is { } dues)
            hash = XxHash64.HashToUInt64(MemoryMarshal.AsBytes(dues.AsSpan()), (long)hash ^ 3);
        if (command.FundsKind != FundsKind.None) hash = hash * 31 + (ulong)command.FundsKind;
        return hash;
    }

    // A null and an empty string hash differently so "absent" and "" are different payloads.
    private static ulong Mix(ulong seed, string? value) =>
        value is null
            ? seed * 31 + 0x5bd1e995UL
            : XxHash64.HashToUInt64(MemoryMarshal.AsBytes(value.AsSpan()), (long)seed);
}
