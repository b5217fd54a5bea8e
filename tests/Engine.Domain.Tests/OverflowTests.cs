namespace Engine.Domain.Tests;

/// <summary>docs/SPEC.md "Money": arithmetic never overflows silently; a result outside int64 is refused and nothing changes.</summary>
public sealed class OverflowTests
{
    private readonly LedgerHarness _h = new();

    [Fact]
    public void An_account_may_use_the_whole_int64_range()
    {
        _h.Open("acct-1", long.MaxValue);
        _h.Authorize("a1", "acct-1", long.MaxValue);
        _h.AssertBalances("acct-1", 0, long.MaxValue, 0);
        Assert.Equal(Status.Ok, _h.Execute(Command.Capture(_h.NextRequestId(), "a1", long.MaxValue, final: true)).Status);
        _h.AssertBalances("acct-1", 0, 0, long.MaxValue);
        _h.Ledger.CheckInvariants();
    }

    [Fact]
    public void SetTemporaryLimit_that_would_take_available_beyond_int64_is_ArithmeticOverflow_and_changes_nothing()
    {
        _h.Open("acct-1", long.MaxValue);
        LedgerEvent e = _h.AssertDeclined(Command.SetTemporaryLimit("tl", "acct-1", long.MaxValue, _h.Now + 1_000), Status.ArithmeticOverflow);
        Assert.Equal("13", ResponseCodes.For(e.Status));
        Assert.Equal(long.MaxValue, e.AvailableMinor);
        Assert.Equal(0, _h.AccountOf("acct-1").TemporaryLimitMinor);
        _h.AssertBalances("acct-1", long.MaxValue, 0, 0);
    }

    [Fact]
    public void SetTemporaryLimit_up_to_the_int64_edge_is_accepted()
    {
        _h.Open("acct-1", long.MaxValue - 10);
        Assert.Equal(Status.Ok, _h.Execute(Command.SetTemporaryLimit(_h.NextRequestId(), "acct-1", 10, _h.Now + 1_000)).Status);
        _h.AssertBalances("acct-1", long.MaxValue, 0, 0);
        _h.AssertDeclined(Command.SetTemporaryLimit("tl", "acct-1", 11, _h.Now + 1_000), Status.ArithmeticOverflow);
    }

    [Fact]
    public void ChangeLimit_that_would_take_available_beyond_int64_is_ArithmeticOverflow()
    {
        _h.Open("acct-1", 0);
        _h.Execute(Command.Repay(_h.NextRequestId(), "acct-1", long.MaxValue));
        _h.AssertBalances("acct-1", long.MaxValue, 0, -long.MaxValue);
        _h.AssertDeclined(Command.ChangeLimit("cl", "acct-1", 1), Status.ArithmeticOverflow);
        Assert.Equal(0, _h.AccountOf("acct-1").CreditLimitMinor);
    }

    [Fact]
    public void Repeated_repayments_stop_at_the_int64_edge_with_ArithmeticOverflow()
    {
        _h.Open("acct-1", 0);
        long chunk = long.MaxValue / 4;
        int approved = 0;
        for (int i = 0; i < 8; i++)
        {
            Reply reply = _h.Execute(Command.Repay(_h.NextRequestId(), "acct-1", chunk));
            if (reply.Status == Status.Ok) approved++;
            else Assert.Equal(Status.ArithmeticOverflow, reply.Status);
        }
        Assert.Equal(4, approved);
        _h.AssertBalances("acct-1", 4 * chunk, 0, -4 * chunk);
        _h.Ledger.CheckInvariants();
    }

    [Fact]
    public void Repeated_force_posts_stop_at_the_int64_edge_with_ArithmeticOverflow()
    {
        _h.Open("acct-1", 0);
        long chunk = long.MaxValue / 3;
        for (int i = 0; i < 3; i++) Assert.Equal(Status.Ok, _h.Execute(Command.ForcePost(_h.NextRequestId(), "acct-1", chunk)).Status);
        _h.AssertDeclined(Command.ForcePost("fp", "acct-1", chunk), Status.ArithmeticOverflow);
        _h.AssertBalances("acct-1", -3 * chunk, 0, 3 * chunk);
    }

    [Fact]
    public void Releasing_a_hold_never_takes_available_outside_int64()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Authorize("a1", "acct-1", 1_000);
        // Approved: available = 1_000 − 1_000 + MaxValue = MaxValue fits, but only while the hold is there.
        Reply repay = h.Execute(Command.Repay(h.NextRequestId(), "acct-1", long.MaxValue));
        Reply release = h.Execute(Command.Void(h.NextRequestId(), "a1"));

        // Either the repayment is refused, or the void is; never a wrapped balance.
        Assert.True(repay.Status == Status.ArithmeticOverflow || release.Status == Status.ArithmeticOverflow,
            $"repay {repay}, void {release}");
        h.Ledger.CheckInvariants();
    }

    [Fact]
    public void Expiring_a_hold_never_takes_available_outside_int64()
    {
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Authorize("a1", "acct-1", 1_000, expiresInSeconds: 1);
        h.Execute(Command.Repay(h.NextRequestId(), "acct-1", long.MaxValue));
        h.Now += 1_000;
        h.Execute(Command.Tick());
        h.Ledger.CheckInvariants();
        Assert.True(h.AccountOf("acct-1").Available(h.Now) > 0);
    }
}
