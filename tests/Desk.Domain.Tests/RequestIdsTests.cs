using Desk.Domain;

namespace Desk.Domain.Tests;

public class RequestIdsTests
{
    private const string DeskA = "0123456789ab";
    private const string DeskB = "ba9876543210";

    [Fact]
    public void Request_ids_of_the_same_record_in_two_desks_differ_and_stay_within_the_engine_limit()
    {
        string a = RequestIds.ForApplication(DeskA, long.MaxValue, ApplicationKind.LimitChange);
        string b = RequestIds.ForApplication(DeskB, long.MaxValue, ApplicationKind.LimitChange);
        Assert.NotEqual(a, b);
        Assert.Equal($"{DeskA}-app-{long.MaxValue}-limit", a);
        Assert.InRange(a.Length, 1, 64);
        Assert.NotEqual(RequestIds.ForAccountOpening(DeskA, "c-91310115MA1K4ABC2X"), RequestIds.ForAccountOpening(DeskB, "c-91310115MA1K4ABC2X"));
        Assert.InRange(RequestIds.ForAccountOpening(DeskA, "c-91310115MA1K4ABC2X").Length, 1, 64);
    }

    [Fact]
    public void Request_ids_are_the_same_for_the_same_record_on_retry()
    {
        Assert.Equal(RequestIds.ForApplication(DeskA, 7, ApplicationKind.TemporaryLimit), RequestIds.ForApplication(DeskA, 7, ApplicationKind.TemporaryLimit));
        Assert.Equal($"{DeskA}-app-7-temp", RequestIds.ForApplication(DeskA, 7, ApplicationKind.TemporaryLimit));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0123456789AB")]
    [InlineData("0123456789a")]
    [InlineData("0123456789abc")]
    [InlineData("0123456789ag")]
    public void A_malformed_desk_id_is_refused_naming_the_desk_id(string deskId)
    {
        var e = Assert.Throws<ArgumentException>(() => RequestIds.ForApplication(deskId, 1, ApplicationKind.NewLimit));
        Assert.Contains("desk id", e.Message);
    }

    [Fact]
    public void A_new_desk_id_is_twelve_lower_case_hex_characters_from_six_bytes()
    {
        Assert.Equal("00ff10ab7f80", RequestIds.NewDeskId([0x00, 0xff, 0x10, 0xab, 0x7f, 0x80]));
        Assert.Throws<ArgumentException>(() => RequestIds.NewDeskId([1, 2, 3]));
    }
}
