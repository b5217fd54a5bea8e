using System.Globalization;

namespace Desk.Domain;

/// <summary>
/// Amounts: the engine counts minor units (fen, cents); people see and type major units with the currency's symbol.
/// Every currency the desk handles has two decimals (CNY, USD, EUR, HKD); others are refused where they enter.
/// </summary>
public static class Money
{
    public const int MinorPerMajor = 100;
    public static readonly IReadOnlyList<string> Currencies = ["CNY", "USD", "EUR", "HKD"];

    public static string Symbol(string currency) => currency switch
    {
        "CNY" => "¥",
        "USD" => "$",
        "EUR" => "€",
        "HKD" => "HK$",
        _ => currency + " ",
    };

    /// <summary>¥50,000.00 for 5,000,000 minor CNY.</summary>
    public static string Format(long amountMinor, string currency)
    {
        decimal major = amountMinor / (decimal)MinorPerMajor;
        string sign = major < 0 ? "-" : "";
        return sign + Symbol(currency) + Math.Abs(major).ToString("#,##0.00", CultureInfo.InvariantCulture);
    }

    /// <summary>Parses "50000", "50,000.00", "¥50,000" into minor units; null with a reason when it is not an amount.</summary>
    public static bool TryParseMajor(string? text, out long amountMinor, out string? error)
    {
        amountMinor = 0;
        error = null;
        if (string.IsNullOrWhiteSpace(text)) { error = "is required"; return false; }
        string cleaned = text.Trim().TrimStart('¥', '$', '€').Replace(",", "").Replace("HK$", "");
        if (!decimal.TryParse(cleaned, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out decimal major))
        {
            error = $"'{text}' is not an amount";
            return false;
        }
        if (major < 0) { error = "must not be negative"; return false; }
        if (decimal.Round(major, 2) != major) { error = "has more than two decimals"; return false; }
        if (major > 90_000_000_000_000m) { error = "is too large"; return false; }
        amountMinor = (long)(major * MinorPerMajor);
        return true;
    }
}
