namespace Engine.Domain;

/// <summary>ISO 4217 alphabetic codes packed into 16 bits (26³ = 17,576 codes fit), so an account stores no string.</summary>
public static class CurrencyCode
{
    /// <summary>Packs "USD" into a number in 1..17576; 0 means "none". Call only with validated input.</summary>
    public static ushort Pack(ReadOnlySpan<char> code)
    {
        if (!IsValid(code)) throw new ArgumentException($"currency '{code.ToString()}' is not three upper-case letters", nameof(code));
        return (ushort)(1 + (code[0] - 'A') * 676 + (code[1] - 'A') * 26 + (code[2] - 'A'));
    }

    public static string Unpack(ushort packed)
    {
        if (packed == 0) return "";
        int value = packed - 1;
        Span<char> chars = [(char)('A' + value / 676), (char)('A' + value / 26 % 26), (char)('A' + value % 26)];
        return new string(chars);
    }

    public static bool IsValid(ReadOnlySpan<char> code) =>
        code.Length == 3 && char.IsAsciiLetterUpper(code[0]) && char.IsAsciiLetterUpper(code[1]) && char.IsAsciiLetterUpper(code[2]);
}
