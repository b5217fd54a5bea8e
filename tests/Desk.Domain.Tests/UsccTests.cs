namespace Desk.Domain.Tests;

public class UsccTests
{
    // Published codes of real companies (their check characters computed by GB 32100-2015).
    [Theory]
    [InlineData("91350100M000100Y43")]
    [InlineData("911100007109288314")]
    [InlineData("91110108551385082Q")]
    [InlineData("91440300708461136T")]
    [InlineData("9111000010000093XR")]
    public void Valid_codes_pass_the_check_character(string code) => Assert.Null(Uscc.Validate(code));

    [Fact]
    public void Wrong_check_character_is_refused_with_the_expected_one()
    {
        string? error = Uscc.Validate("91310000MA1FL4FL0M");
        Assert.Equal("check character is 'M', expected 'D'", error);
    }

    [Theory]
    [InlineData("", "is required")]
    [InlineData("9135010", "must be 18 characters, got 7")]
    [InlineData("91350100M000100I43", "character 16 'I' is not allowed (digits and A-Y without I, O, S, V, Z)")]
    [InlineData("913A0100M000100Y43", "characters 3-8 (administrative division) must be digits; character 4 is 'A'")]
    public void Malformed_codes_are_refused_naming_the_problem(string code, string expected) => Assert.Equal(expected, Uscc.Validate(code));

    [Fact]
    public void Check_character_zero_when_the_remainder_is_zero()
    {
        // Any 17 characters whose weighted sum is a multiple of 31 get '0'; "00000000000000000" sums to 0.
        Assert.Equal('0', Uscc.CheckCharacter("00000000000000000"));
    }
}
