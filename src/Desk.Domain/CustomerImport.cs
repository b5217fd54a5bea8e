namespace Desk.Domain;

/// <summary>One valid row of an import file: the customer's profile and its initial limit and terms.</summary>
public sealed record ImportRow(int RowNumber, Customer Customer, long InitialLimitMinor, int TermsDays);

/// <summary>A problem in an import file: the spreadsheet row (1 = header) and the column.</summary>
public sealed record ImportError(int RowNumber, string Field, string Message)
{
    public override string ToString() => $"row {RowNumber}, {Field}: {Message}";
}

public sealed record ImportPreview(IReadOnlyList<ImportRow> Rows, IReadOnlyList<ImportError> Errors);

/// <summary>
/// Validates customer import files (.csv or .xlsx turned into rows of cells). The first row is the header; columns
/// are matched by English or Chinese name, in any order. Every bad row and field is reported, not only the first.
/// The key is the unified social credit code: a re-import of the same file updates nothing and opens nothing new.
/// </summary>
public static class CustomerImport
{
    public const int RowsMax = 100_000;

    /// <summary>Canonical column → accepted header names.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Columns = new Dictionary<string, string[]>
    {
        ["uscc"] = ["uscc", "统一社会信用代码", "credit code"],
        ["legal_name"] = ["legal_name", "企业名称", "name", "legal name"],
        ["tax_id"] = ["tax_id", "税号"],
        ["address"] = ["address", "注册地址", "registered_address"],
        ["contact_name"] = ["contact_name", "联系人"],
        ["contact_phone"] = ["contact_phone", "联系电话", "phone"],
        ["contact_email"] = ["contact_email", "邮箱", "email"],
        ["industry"] = ["industry", "行业"],
        ["registered_capital"] = ["registered_capital", "注册资本"],
        ["source"] = ["source", "来源"],
        ["region"] = ["region", "区域", "地区"],
        ["owner"] = ["owner", "销售", "salesperson"],
        ["type"] = ["type", "客户类型", "customer_type"],
        ["currency"] = ["currency", "币种"],
        ["initial_limit"] = ["initial_limit", "初始额度", "limit"],
        ["terms_days"] = ["terms_days", "账期", "terms"],
        ["cooperation_since"] = ["cooperation_since", "合作起始年"],
        ["external_rating"] = ["external_rating", "外部评级"],
    };

    public static readonly string[] Required = ["uscc", "legal_name"];

    public static ImportPreview Validate(IReadOnlyList<string[]> table, ISet<string> knownOwners)
    {
        var errors = new List<ImportError>();
        var rows = new List<ImportRow>();
        if (table.Count == 0) return new ImportPreview(rows, [new ImportError(1, "header", "the file is empty")]);
        if (table.Count - 1 > RowsMax) return new ImportPreview(rows, [new ImportError(1, "file", $"at most {RowsMax:N0} rows per file, got {table.Count - 1:N0}")]);
        var index = new Dictionary<string, int>();
        string[] header = table[0];
        for (int i = 0; i < header.Length; i++)
        {
            string h = header[i].Trim().ToLowerInvariant();
            string? canonical = Columns.FirstOrDefault(kv => kv.Value.Contains(h)).Key;
            if (canonical is null) { errors.Add(new ImportError(1, header[i], $"unknown column; known: {string.Join(", ", Columns.Keys)}")); continue; }
            if (!index.TryAdd(canonical, i)) errors.Add(new ImportError(1, header[i], $"column {canonical} appears twice"));
        }
        foreach (string r in Required) if (!index.ContainsKey(r)) errors.Add(new ImportError(1, r, "required column is missing"));
        if (errors.Count > 0) return new ImportPreview(rows, errors);

        var seen = new Dictionary<string, int>();
        for (int r = 1; r < table.Count; r++)
        {
            int rowNumber = r + 1;
            string[] cells = table[r];
            string Cell(string column) => index.TryGetValue(column, out int i) && i < cells.Length ? cells[i].Trim() : "";
            int before = errors.Count;
            void Error(string field, string message) => errors.Add(new ImportError(rowNumber, field, message));

            string uscc = Uscc.Normalize(Cell("uscc"));
            if (Uscc.Validate(uscc) is { } usccError) Error("uscc", usccError);
            else if (seen.TryGetValue(uscc, out int firstRow)) Error("uscc", $"duplicate of row {firstRow}");
            else seen[uscc] = rowNumber;
            string name = Cell("legal_name");
            if (name.Length == 0) Error("legal_name", "is required");
            else if (name.Length > 200) Error("legal_name", "at most 200 characters");

            long capital = 0;
            if (Cell("registered_capital") is { Length: > 0 } capitalText && !Money.TryParseMajor(capitalText, out capital, out string? capitalError)) Error("registered_capital", capitalError!);
            long limit = 0;
            if (Cell("initial_limit") is { Length: > 0 } limitText && !Money.TryParseMajor(limitText, out limit, out string? limitError)) Error("initial_limit", limitError!);
            int terms = 30;
            if (Cell("terms_days") is { Length: > 0 } termsText && (!int.TryParse(termsText, out terms) || terms is < 0 or > 365)) Error("terms_days", $"'{termsText}' is not a number of days 0..365");
            string currency = Cell("currency") is { Length: > 0 } cur ? cur.ToUpperInvariant() : "CNY";
            if (!Money.Currencies.Contains(currency)) Error("currency", $"'{currency}' is not one of {string.Join(", ", Money.Currencies)}");
            CustomerType type = CustomerType.Enterprise;
            if (Cell("type") is { Length: > 0 } typeText && !Enum.TryParse(typeText, ignoreCase: true, out type)) Error("type", $"'{typeText}' is not one of {string.Join(", ", Enum.GetNames<CustomerType>())}");
            string owner = Cell("owner");
            if (owner.Length > 0 && !knownOwners.Contains(owner)) Error("owner", $"no user '{owner}'");
            int? since = null;
            if (Cell("cooperation_since") is { Length: > 0 } sinceText)
            {
                if (int.TryParse(sinceText, out int year) && year is >= 1900 and <= 2200) since = year;
                else Error("cooperation_since", $"'{sinceText}' is not a year");
            }
            string email = Cell("contact_email");
            if (email.Length > 0 && !email.Contains('@')) Error("contact_email", $"'{email}' is not an e-mail address");

            if (errors.Count > before) continue;
            rows.Add(new ImportRow(rowNumber, new Customer
            {
                Uscc = uscc,
                LegalName = name,
                TaxId = NullIfEmpty(Cell("tax_id")),
                RegisteredAddress = NullIfEmpty(Cell("address")),
                ContactName = NullIfEmpty(Cell("contact_name")),
                ContactPhone = NullIfEmpty(Cell("contact_phone")),
                ContactEmail = NullIfEmpty(email),
                Industry = NullIfEmpty(Cell("industry")),
                RegisteredCapitalMinor = capital,
                Source = NullIfEmpty(Cell("source")),
                Region = NullIfEmpty(Cell("region")),
                OwnerUserName = NullIfEmpty(owner),
                Type = type,
                Currency = currency,
                CooperationSinceYear = since,
                ExternalRating = NullIfEmpty(Cell("external_rating")),
                Stage = limit > 0 ? LifecycleStage.Active : LifecycleStage.Prospect,
            }, limit, terms));
        }
        return new ImportPreview(rows, errors);
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
