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
        return hash;
    }

    // A null and an empty string hash differently so "absent" and "" are different payloads.
    private static ulong Mix(ulong seed, string? value) =>
        value is null
            ? seed * 31 + 0x5bd1e995UL
            : XxHash64.HashToUInt64(MemoryMarshal.AsBytes(value.AsSpan()), (long)seed);
}
