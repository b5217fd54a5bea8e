using System.Security.Cryptography;
using System.Text;

namespace Engine.Server.Security;

/// <summary>
/// How API keys are stored: the SHA-256 of the key's UTF-8 bytes, as 64 lowercase hex digits — the same as
/// <c>printf %s "$KEY" | sha256sum</c> or <c>Engine.Server hash-key</c>. Keys are long random strings (see
/// <see cref="NewKey"/>), so a fast unsalted hash is enough: there is no dictionary to guess from.
/// </summary>
public static class ApiKeyHash
{
    public const int HexLength = 64;

    /// <summary>Bytes of a generated key before Base64url encoding (256 bits).</summary>
    private const int GeneratedKeyBytes = 32;

    public static string Of(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The 32 hash bytes of a key as presented by a caller.</summary>
    public static byte[] BytesOf(ReadOnlySpan<char> key)
    {
        Span<byte> utf8 = key.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        int length = Encoding.UTF8.GetBytes(key, utf8);
        return SHA256.HashData(utf8[..length]);
    }

    /// <summary>Parses a stored hash; false unless it is exactly 64 hex digits.</summary>
    public static bool TryParse(string text, out byte[] hash)
    {
        hash = [];
        if (text.Length != HexLength || !text.All(Uri.IsHexDigit)) return false;
        hash = Convert.FromHexString(text);
        return true;
    }

    /// <summary>A new random key: 256 bits, Base64url without padding (43 characters, safe in a header).</summary>
    public static string NewKey() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(GeneratedKeyBytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
