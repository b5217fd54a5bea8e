using System.Globalization;
using Microsoft.AspNetCore.Localization;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Primitives;

namespace Desk.Web.Localization;

/// <summary>
/// The desk's typed string table (ASP.NET Core localization through <see cref="IStringLocalizer"/>): keys are the English
/// text, <see cref="Zh"/> holds the Simplified Chinese. Pages use <c>@T["…"]</c>; a key missing from the table shows its
/// English (the <c>Every_key_used_by_a_page_has_a_Chinese_text</c> test finds such keys).
/// </summary>
public sealed partial class DeskText
{
    public const string Chinese = "zh-CN";
    public const string English = "en";
    public static readonly string[] Languages = [Chinese, English];

    /// <summary>"zh-CN" for a stored or requested language starting with zh, "en" for en*, null otherwise.</summary>
    public static string? Normalize(string? language)
    {
        if (string.IsNullOrWhiteSpace(language)) return null;
        string l = language.Trim();
        if (l.StartsWith("zh", StringComparison.OrdinalIgnoreCase)) return Chinese;
        if (l.StartsWith("en", StringComparison.OrdinalIgnoreCase)) return English;
        return null;
    }

    /// <summary>The browser's choice: the Accept-Language entry of highest quality that is Chinese or English; English otherwise.</summary>
    public static string FromAcceptLanguage(StringValues header)
    {
        string? best = null;
        double bestQuality = -1;
        foreach (string? value in header)
        {
            if (value is null) continue;
            foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] pieces = part.Split(';', StringSplitOptions.TrimEntries);
                double q = 1;
                foreach (string p in pieces.Skip(1))
                    if (p.StartsWith("q=", StringComparison.OrdinalIgnoreCase) && double.TryParse(p[2..], NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed)) q = parsed;
                if (Normalize(pieces[0]) is { } l && q > bestQuality) (best, bestQuality) = (l, q);
            }
        }
        return best ?? English;
    }

    public static bool IsChinese(CultureInfo culture) => culture.TwoLetterISOLanguageName == "zh";

    /// <summary>The text of <paramref name="key"/> in the current UI culture.</summary>
    public static string Get(string key) =>
        IsChinese(CultureInfo.CurrentUICulture) && Zh.TryGetValue(key, out string? zh) ? zh : key;

    /// <summary>
    /// A message from the services ("field: problem" or a sentence): the whole message if the table has it, else the
    /// problem after the field name; the field name itself stays as it is (it names the input).
    /// </summary>
    public static string Message(string? message)
    {
        if (string.IsNullOrEmpty(message) || !IsChinese(CultureInfo.CurrentUICulture)) return message ?? "";
        if (Zh.TryGetValue(message, out string? whole)) return whole;
        int colon = message.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && Zh.TryGetValue(message[(colon + 2)..], out string? tail)) return message[..(colon + 2)] + tail;
        return message;
    }

    /// <summary>The request's culture: the signed-in user's stored language, else the browser's Accept-Language.</summary>
    public static Task<ProviderCultureResult?> CultureOf(Microsoft.AspNetCore.Http.HttpContext ctx)
    {
        string language = Normalize(ctx.User.FindFirst(Services.CurrentUser.LanguageClaim)?.Value)
            ?? FromAcceptLanguage(ctx.Request.Headers.AcceptLanguage);
        return Task.FromResult<ProviderCultureResult?>(new ProviderCultureResult(language));
    }
}

/// <summary><see cref="IStringLocalizer"/> over <see cref="DeskText"/>; format arguments use the current culture.</summary>
public sealed class DeskTextLocalizer : IStringLocalizer
{
    public LocalizedString this[string name] => new(name, DeskText.Get(name), resourceNotFound: DeskText.IsChinese(CultureInfo.CurrentUICulture) && !DeskText.Zh.ContainsKey(name));

    public LocalizedString this[string name, params object[] arguments]
    {
        get
        {
            var text = this[name];
            return new(name, string.Format(CultureInfo.CurrentCulture, text.Value, arguments), text.ResourceNotFound);
        }
    }

    public IEnumerable<LocalizedString> GetAllStrings(bool includeParentCultures) =>
        DeskText.Zh.Keys.Select(k => this[k]);
}

public sealed class DeskTextLocalizerFactory : IStringLocalizerFactory
{
    private static readonly DeskTextLocalizer Instance = new();
    public IStringLocalizer Create(Type resourceSource) => Instance;
    public IStringLocalizer Create(string baseName, string location) => Instance;
}
