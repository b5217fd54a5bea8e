namespace Engine.Domain;

/// <summary>
/// Overflow-safe balance arithmetic. Every mutation is checked in 128 bits first: a result that would
/// leave int64 is refused (<see cref="Status.ArithmeticOverflow"/>) and nothing changes.
/// </summary>
public static class Balances
{
    public static Int128 Available(long creditLimitMinor, long temporaryLimitMinor, long heldMinor, long postedMinor) =>
        (Int128)creditLimitMinor + temporaryLimitMinor - heldMinor - postedMinor;

    public static bool FitsInt64(Int128 value) => value >= long.MinValue && value <= long.MaxValue;

    /// <summary>
    /// True when an account with these figures keeps every derived number in int64: held and posted
    /// themselves, and available with and without the temporary limit (it may expire at any time) and with
    /// and without the holds (they may be voided or expire at any time). Available is linear in each, so
    /// checking the four corners covers every state the account can reach without another checked command.
    /// </summary>
    public static bool Representable(long creditLimitMinor, long temporaryLimitMinor, Int128 heldMinor, Int128 postedMinor)
    {
        if (!FitsInt64(heldMinor) || !FitsInt64(postedMinor) || heldMinor < 0) return false;
        Int128 withoutHolds = (Int128)creditLimitMinor - postedMinor;
        Int128 withHolds = withoutHolds - heldMinor;
        return FitsInt64(withHolds) && FitsInt64(withHolds + temporaryLimitMinor)
            && FitsInt64(withoutHolds) && FitsInt64(withoutHolds + temporaryLimitMinor);
    }

    public static long SaturatingAdd(long a, long b)
    {
        Int128 sum = (Int128)a + b;
        return sum > long.MaxValue ? long.MaxValue : sum < long.MinValue ? long.MinValue : (long)sum;
    }
}
