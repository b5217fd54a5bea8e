namespace Engine.Domain;

/// <summary>
/// How the ledger stores one authorization: a struct in <see cref="AuthorizationStore"/>'s chunked slot arrays, not
/// an object per authorization. Every authorization lives for its hold's lifetime and then its retention, so as
/// objects each one survived gen0 and gen1 and was copied twice by the GC (≈ 370 ns per Authorize measured).
/// </summary>
internal struct AuthorizationRecord
{
    /// <summary>Ids up to this many characters are stored inline as ASCII bytes (a UUID's 36 fit); longer ones as a string.</summary>
    public const int InlineIdLengthMax = 40;

    /// <summary>
    /// The request id of the Authorize that created it, as ASCII bytes inside the record: no string object per open hold
    /// survives to the older generations (bench/RESULTS.md "Ids of holds inline": the ids of open holds were what every
    /// gen1 collection promoted). Ids are printable ASCII by validation; a longer or non-ASCII one keeps its string.
    /// </summary>
    private InlineId _idBytes;
    private string? _longId;
    // Length of the inline id; 0 when the id is in _longId or the slot is free.
    private byte _idLength;

    [System.Runtime.CompilerServices.InlineArray(InlineIdLengthMax)]
    private struct InlineId
    {
        private byte _element0;
    }

    /// <summary>The slot holds an authorization (free slots have no id).</summary>
    public readonly bool HasId => _idLength != 0 || _longId is not null;

    /// <summary>
    /// The id as a string: <b>allocates</b> for an inline id, so only for events of expiry, queries, snapshots and messages;
    /// compare with <see cref="IdEquals"/>. Null while the slot is free.
    /// </summary>
    public string? Id
    {
        readonly get
        {
            if (_longId is not null) return _longId;
            if (_idLength == 0) return null;
            ReadOnlySpan<byte> bytes = _idBytes;
            return System.Text.Encoding.ASCII.GetString(bytes[.._idLength]);
        }
        set
        {
            _longId = null;
            _idLength = 0;
            _idBytes = default;
            if (value is null) return;
            if (value.Length is > 0 and <= InlineIdLengthMax && System.Text.Ascii.IsValid(value))
            {
                Span<byte> bytes = _idBytes;
                System.Text.Ascii.FromUtf16(value, bytes, out int written);
                _idLength = (byte)written;
            }
            else _longId = value;
        }
    }

    /// <summary>The stored id equals <paramref name="id"/> (no allocation).</summary>
    public readonly bool IdEquals(string? id)
    {
        if (_longId is not null) return string.Equals(_longId, id, StringComparison.Ordinal);
        if (_idLength == 0 || id is null) return _idLength == 0 && id is null;
        ReadOnlySpan<byte> bytes = _idBytes;
        return System.Text.Ascii.Equals(bytes[.._idLength], id);
    }

    /// <summary><see cref="Fingerprints.IdKey"/> of <see cref="Id"/> (= the creating request's key): the store's index key.</summary>
    public UInt128 Key;
    /// <summary>When the Authorize was approved (its event sequence): breaks expiry ties deterministically.</summary>
    public long CreatedSequence;
    /// <summary>Authorized amount including increments: the base for over-capture tolerance.</summary>
    public long AuthorizedMinor;
    /// <summary>What this authorization still holds against the account.</summary>
    public long HeldMinor;
    public long CapturedMinor;
    public long RefundedMinor;
    /// <summary>
    /// Released by partial or full voids (reversals). What may still be captured is measured from
    /// <see cref="AuthorizedMinor"/> − this, so an authorization of 300 reversed by 250 tolerates captures of 50 (plus
    /// the over-capture percentage of 50), not of 300. Expiry is not a reversal: a late capture of an expired
    /// authorization is measured against what was authorized.
    /// </summary>
    public long ReversedMinor;
    public long ExpiresAtUnixMs;
    /// <summary>When it left <see cref="AuthorizationState.Open"/>; drives retention.</summary>
    public long ClosedAtUnixMs;
    public int AccountIndex;
    /// <summary>Position in the expiry heap while open, -1 otherwise. Owned by <see cref="ExpiryHeap"/>.</summary>
    public int HeapIndex;
    /// <summary>The next free slot while this one is free (-1 ends the list). Owned by <see cref="AuthorizationStore"/>.</summary>
    public int NextFreeSlot;
    public AuthorizationState State;
}
