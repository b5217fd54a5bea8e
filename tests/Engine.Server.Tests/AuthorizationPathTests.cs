using Credit.V1;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>docs/SPEC.md command rules, through the wire, with the raw generated clients.</summary>
public sealed class AuthorizationPathTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Authorize_capture_repay_moves_held_posted_and_available_by_the_formula()
    {
        string account = await OpenAccountAsync(_server, creditLimit: 10_000);
        string authorizeId = Id("auth");
        AuthorizeResponse authorized = await _server.Authorization.AuthorizeAsync(new AuthorizeRequest
        {
            RequestId = authorizeId, AccountId = account, Amount = 2_500, Currency = "USD", MerchantId = "m-1", Mcc = 5411,
        }, Deadline());
        Assert.True(authorized.Approved);
        Assert.Equal(Status.Ok, authorized.Status);
        Assert.Equal("00", authorized.ResponseCode);
        Assert.Equal(authorizeId, authorized.AuthorizationId);
        Assert.Equal((7_500L, 2_500L, 0L), (authorized.Available, authorized.Held, authorized.Posted));
        Assert.False(authorized.Replayed);
        Assert.True(authorized.Sequence > 0);

        CaptureResponse captured = await _server.Authorization.CaptureAsync(new CaptureRequest
        {
            RequestId = Id("cap"), AuthorizationId = authorizeId, Amount = 2_000, Final = true,
        }, Deadline());
        Assert.Equal(Status.Ok, captured.Status);
        Assert.Equal((8_000L, 0L, 2_000L), (captured.Available, captured.Held, captured.Posted));
        Assert.True(captured.Sequence > authorized.Sequence);

        RepayResponse repaid = await _server.Authorization.RepayAsync(new RepayRequest { RequestId = Id("pay"), AccountId = account, Amount = 3_000 }, Deadline());
        Assert.Equal(Status.Ok, repaid.Status);
        Assert.Equal((11_000L, 0L, -1_000L), (repaid.Available, repaid.Held, repaid.Posted));
    }

    [Fact]
    public async Task Void_releases_the_hold_and_a_later_capture_is_refused()
    {
        string account = await OpenAccountAsync(_server, creditLimit: 5_000);
        string authorizeId = Id("auth");
        await _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = authorizeId, AccountId = account, Amount = 1_000, Currency = "USD" }, Deadline());

        VoidResponse voided = await _server.Authorization.VoidAsync(new VoidRequest { RequestId = Id("void"), AuthorizationId = authorizeId }, Deadline());
        Assert.Equal(Status.Ok, voided.Status);
        Assert.Equal((5_000L, 0L), (voided.Available, voided.Held));

        CaptureResponse capture = await _server.Authorization.CaptureAsync(new CaptureRequest { RequestId = Id("cap"), AuthorizationId = authorizeId, Amount = 500 }, Deadline());
        Assert.Equal(Status.AuthorizationVoided, capture.Status);
        Assert.False(capture.Approved);
        Assert.Equal(0L, capture.Posted);
    }

    [Fact]
    public async Task Declines_are_replies_with_iso_codes_and_the_available_credit()
    {
        string account = await OpenAccountAsync(_server, creditLimit: 1_000);

        AuthorizeResponse tooMuch = await _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("a"), AccountId = account, Amount = 1_001, Currency = "USD" }, Deadline());
        Assert.Equal((false, Status.InsufficientCredit, "51", 1_000L), (tooMuch.Approved, tooMuch.Status, tooMuch.ResponseCode, tooMuch.Available));
        Assert.Equal("", tooMuch.AuthorizationId);

        AuthorizeResponse unknown = await _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("a"), AccountId = Id("nobody"), Amount = 1, Currency = "USD" }, Deadline());
        Assert.Equal((Status.AccountNotFound, "14"), (unknown.Status, unknown.ResponseCode));

        AuthorizeResponse wrongCurrency = await _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("a"), AccountId = account, Amount = 1, Currency = "EUR" }, Deadline());
        Assert.Equal((Status.CurrencyMismatch, "12"), (wrongCurrency.Status, wrongCurrency.ResponseCode));

        await _server.Accounts.FreezeAsync(new FreezeRequest { RequestId = Id("f"), AccountId = account, Reason = "fraud review" }, Deadline());
        AuthorizeResponse frozen = await _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("a"), AccountId = account, Amount = 1, Currency = "USD" }, Deadline());
        Assert.Equal((Status.AccountFrozen, "62", 1_000L), (frozen.Status, frozen.ResponseCode, frozen.Available));
        Assert.True(frozen.Sequence > 0); // declines are journaled events too
    }

    [Fact]
    public async Task A_retransmission_gets_the_original_reply_replayed_and_a_reused_id_gets_94()
    {
        string account = await OpenAccountAsync(_server, creditLimit: 1_000);
        var request = new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 600, Currency = "USD" };
        AuthorizeResponse first = await _server.Authorization.AuthorizeAsync(request, Deadline());
        AuthorizeResponse again = await _server.Authorization.AuthorizeAsync(request, Deadline());
        Assert.True(again.Replayed);
        Assert.Equal((first.Status, first.Sequence, first.Available, first.Held), (again.Status, again.Sequence, again.Available, again.Held));
        Assert.Equal(first.AuthorizationId, again.AuthorizationId);

        // A declined authorization retransmitted gets the same decline.
        var declined = new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 600, Currency = "USD" };
        AuthorizeResponse decline = await _server.Authorization.AuthorizeAsync(declined, Deadline());
        Assert.Equal(Status.InsufficientCredit, decline.Status);
        AuthorizeResponse declineAgain = await _server.Authorization.AuthorizeAsync(declined, Deadline());
        Assert.Equal((Status.InsufficientCredit, true, decline.Sequence), (declineAgain.Status, declineAgain.Replayed, declineAgain.Sequence));

        var reused = request.Clone();
        reused.Amount = 1;
        AuthorizeResponse conflict = await _server.Authorization.AuthorizeAsync(reused, Deadline());
        Assert.Equal((Status.RequestIdReused, "94", false), (conflict.Status, conflict.ResponseCode, conflict.Approved));

        GetAccountResponse state = await _server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = declineAgain.Sequence }, Deadline());
        Assert.Equal(600L, state.Account.Held); // one hold, not two or three
    }

    [Fact]
    public async Task Partial_captures_and_increment_follow_the_authorization()
    {
        string account = await OpenAccountAsync(_server, creditLimit: 10_000, overcapturePercent: 20);
        string authorizeId = Id("auth");
        await _server.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = authorizeId, AccountId = account, Amount = 1_000, Currency = "USD" }, Deadline());
        IncrementAuthorizationResponse increased = await _server.Authorization.IncrementAuthorizationAsync(
            new IncrementAuthorizationRequest { RequestId = Id("inc"), AuthorizationId = authorizeId, Amount = 500 }, Deadline());
        Assert.Equal((true, 1_500L), (increased.Approved, increased.Held));

        CaptureResponse part = await _server.Authorization.CaptureAsync(new CaptureRequest { RequestId = Id("cap"), AuthorizationId = authorizeId, Amount = 400 }, Deadline());
        Assert.Equal((Status.Ok, 1_100L, 400L), (part.Status, part.Held, part.Posted));
        CaptureResponse over = await _server.Authorization.CaptureAsync(new CaptureRequest { RequestId = Id("cap"), AuthorizationId = authorizeId, Amount = 5_000 }, Deadline());
        Assert.Equal(Status.CaptureExceedsAuthorization, over.Status);
        CaptureResponse rest = await _server.Authorization.CaptureAsync(new CaptureRequest { RequestId = Id("cap"), AuthorizationId = authorizeId, Amount = 1_400, Final = true }, Deadline());
        Assert.Equal((Status.Ok, 0L, 1_800L), (rest.Status, rest.Held, rest.Posted));

        ForcePostResponse forced = await _server.Authorization.ForcePostAsync(new ForcePostRequest { RequestId = Id("fp"), AccountId = account, Amount = 9_000 }, Deadline());
        Assert.Equal((Status.Ok, -800L), (forced.Status, forced.Available)); // never refused for lack of credit
        RefundResponse refund = await _server.Authorization.RefundAsync(new RefundRequest { RequestId = Id("rf"), AccountId = account, Amount = 800 }, Deadline());
        Assert.Equal((Status.Ok, 0L), (refund.Status, refund.Available));
    }
}
