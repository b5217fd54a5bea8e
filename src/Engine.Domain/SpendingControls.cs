namespace Engine.Domain;

/// <summary>
/// Per-account authorization controls, as issuer processors offer them (spending limits, velocity,
/// blocked merchant categories). Zero means "no limit" for every numeric field. Immutable.
/// </summary>
public sealed record SpendingControls
{
    /// <summary>Largest amount one authorization (after increments) may hold; 0 = none. Declines with <see cref="Status.AmountLimitExceeded"/>.</summary>
    public long MaxAuthorizationAmountMinor { get; init; }
    /// <summary>Most approved authorizations per velocity window; 0 = none. Declines with <see cref="Status.VelocityLimitExceeded"/>.</summary>
    public int VelocityMaxCount { get; init; }
    /// <summary>Most authorized amount per velocity window; 0 = none.</summary>
    public long VelocityMaxAmountMinor { get; init; }
    /// <summary>Velocity window length; windows are aligned to multiples of it since the Unix epoch (engine time).</summary>
    public int VelocityWindowSeconds { get; init; }
    /// <summary>Merchant category codes to decline, sorted ascending, at most <see cref="CommandValidator.BlockedMccCountMax"/>.</summary>
    public int[] BlockedMccs { get; init; } = [];

    public static readonly SpendingControls None = new();

    public bool IsMccBlocked(int mcc) => mcc >= 0 && Array.BinarySearch(BlockedMccs, mcc) >= 0;

    public bool Equals(SpendingControls? other) =>
        other is not null
        && MaxAuthorizationAmountMinor == other.MaxAuthorizationAmountMinor
        && VelocityMaxCount == other.VelocityMaxCount
        && VelocityMaxAmountMinor == other.VelocityMaxAmountMinor
        && VelocityWindowSeconds == other.VelocityWindowSeconds
        && BlockedMccs.AsSpan().SequenceEqual(other.BlockedMccs);

    public override int GetHashCode() => HashCode.Combine(MaxAuthorizationAmountMinor, VelocityMaxCount, VelocityMaxAmountMinor, VelocityWindowSeconds, BlockedMccs.Length);
}
