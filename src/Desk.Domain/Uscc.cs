namespace Desk.Domain;

/// <summary>
/// The unified social credit code (统一社会信用代码) of GB 32100-2015: 18 characters from a 31-symbol alphabet
/// (digits and upper-case letters without I, O, Z, S, V); the 18th is a check character computed from the first 17
/// with weights 3^i mod 31. Positions 3-8 are the administrative division code and must be digits.
/// </summary>
public static class Uscc
{
    public const int Length = 18;
    private const string Alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    private static readonly int[] Weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

    /// <summary>Null when <paramref name="code"/> is valid; otherwise why not, in words a clerk can act on.</summary>
    public static string? Validate(string? code)
    {
        if (string.IsNullOrWhiteSpace(code)) return "is required";
        if (code.Length != Length) return $"must be {Length} characters, got {code.Length}";
        for (int i = 0; i < Length; i++)
        {
            if (Alphabet.IndexOf(code[i]) < 0) return $"character {i + 1} '{code[i]}' is not allowed (digits and A-Y without I, O, S, V, Z)";
        }
        for (int i = 2; i < 8; i++)
        {
            if (!char.IsAsciiDigit(code[i])) return $"characters 3-8 (administrative division) must be digits; character {i + 1} is '{code[i]}'";
        }
        char expected = CheckCharacter(code.AsSpan(0, 17));
        return code[17] == expected ? null : $"check character is '{code[17]}', expected '{expected}'";
    }

    public static bool IsValid(string? code) => Validate(code) is null;

    /// <summary>The check character for the first 17 characters (which must be in the alphabet).</summary>
    public static char CheckCharacter(ReadOnlySpan<char> first17)
    {
        if (first17.Length != 17) throw new ArgumentException("exactly 17 characters are needed", nameof(first17));
        int sum = 0;
        for (int i = 0; i < 17; i++)
        {
            int value = Alphabet.IndexOf(first17[i]);
            if (value < 0) throw new ArgumentException($"character {i + 1} '{first17[i]}' is not in the alphabet", nameof(first17));
            sum += value * Weights[i];
        }
        int check = (31 - sum % 31) % 31;
        return Alphabet[check];
    }

    /// <summary>Normalises what people type: trims and upper-cases (codes are printed in upper case).</summary>
    public static string Normalize(string code) => code.Trim().ToUpperInvariant();
}
