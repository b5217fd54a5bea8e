namespace Desk.Domain.Tests;

public class ImportTests
{
    [Fact]
    public void Preview_names_every_bad_row_and_field()
    {
        string csv = "统一社会信用代码,企业名称,initial_limit,terms_days,owner,currency\n" +
                     "91350100M000100Y43,\"Fuzhou Trading, Ltd\",50000,30,sam,CNY\n" +
                     "91350100M000100Y44,Bad Check,abc,400,nobody,XYZ\n" +
                     "91350100M000100Y43,Duplicate,1,30,,\n" +
                     ",,,,,\n";
        ImportPreview preview = CustomerImport.Validate(Csv.Parse(csv), new HashSet<string> { "sam" });
        ImportRow row = Assert.Single(preview.Rows);
        Assert.Equal("Fuzhou Trading, Ltd", row.Customer.LegalName);
        Assert.Equal(5_000_000, row.InitialLimitMinor);
        Assert.Equal(
        [
            "row 3, uscc: check character is '4', expected '3'",
            "row 3, initial_limit: 'abc' is not an amount",
            "row 3, terms_days: '400' is not a number of days 0..365",
            "row 3, currency: 'XYZ' is not one of CNY, USD, EUR, HKD",
            "row 3, owner: no user 'nobody'",
            "row 4, uscc: duplicate of row 2",
        ], preview.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Missing_required_column_is_reported_on_the_header()
    {
        ImportPreview preview = CustomerImport.Validate(Csv.Parse("name,region\nA,B\n"), new HashSet<string>());
        Assert.Equal("row 1, uscc: required column is missing", Assert.Single(preview.Errors).ToString());
    }

    [Fact]
    public void Csv_handles_quotes_newlines_and_bom()
    {
        var rows = Csv.Parse("\uFEFFa,\"b \"\"x\"\"\nline\",c\r\n1,2,3");
        Assert.Equal(["a", "b \"x\"\nline", "c"], rows[0]);
        Assert.Equal(["1", "2", "3"], rows[1]);
    }

    [Fact]
    public void Money_is_shown_in_major_units_with_the_symbol()
    {
        Assert.Equal("¥50,000.00", Money.Format(5_000_000, "CNY"));
        Assert.True(Money.TryParseMajor("¥50,000.5", out long minor, out _));
        Assert.Equal(5_000_050, minor);
        Assert.False(Money.TryParseMajor("1.234", out _, out string? error));
        Assert.Equal("has more than two decimals", error);
    }
}
