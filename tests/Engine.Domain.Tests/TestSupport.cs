namespace Engine.Domain.Tests;

/// <summary>An <see cref="IEventSink"/> that keeps every event, for asserting what a command journaled.</summary>
public sealed class CollectingSink : IEventSink
{
    public List<LedgerEvent> Events { get; } = [];

    public void OnEvent(in LedgerEvent ledgerEvent) => Events.Add(ledgerEvent);

    public LedgerEvent Last => Events[^1];

    public void Clear() => Events.Clear();
}

/// <summary>
/// A ledger plus a sink and a clock, so a test reads as a list of commands. Every command is validated first
/// (Execute assumes validated input), and every call asserts the event stream stays dense.
/// </summary>
public sealed class LedgerHarness
{
    /// <summary>A realistic engine time (2023-11-14T22:13:20Z), so aligned velocity windows are not at the epoch.</summary>
    public const long T0 = 1_700_000_000_000;

    public LedgerHarness(LedgerOptions? options = null) : this(new Ledger(options))
    {
    }

    public LedgerHarness(Ledger ledger)
    {
        Ledger = ledger;
        Now = T0;
    }

    public Ledger Ledger { get; }
    public CollectingSink Sink { get; } = new();
    public long Now { get; set; }
    private int _nextRequest;

    public string NextRequestId() => $"req-{++_nextRequest}";

    /// <summary>Runs a command and returns its reply plus the events it produced.</summary>
    public (Reply Reply, List<LedgerEvent> Events) Run(Command command)
    {
        if (command.Type != CommandType.Tick)
        {
            ValidationError? error = CommandValidator.Validate(command);
            Assert.True(error is null, $"test bug: command is malformed: {error}");
        }
        int before = Sink.Events.Count;
        long sequenceBefore = Ledger.LastSequence;
        Reply reply = Ledger.Execute(command, Now, Sink);
        List<LedgerEvent> events = Sink.Events.GetRange(before, Sink.Events.Count - before);
        for (int i = 0; i < events.Count; i++) Assert.Equal(sequenceBefore + 1 + i, events[i].Sequence);
        Assert.Equal(sequenceBefore + events.Count, Ledger.LastSequence);
        return (reply, events);
    }

    public Reply Execute(Command command) => Run(command).Reply;

    public LedgerEvent Single(Command command)
    {
        (Reply reply, List<LedgerEvent> events) = Run(command);
        LedgerEvent e = Assert.Single(events);
        Assert.Equal(e.Sequence, reply.Sequence);
        Assert.Equal(e.Status, reply.Status);
        Assert.Equal(e.AvailableMinor, reply.AvailableMinor);
        Assert.Equal(e.HeldMinor, reply.HeldMinor);
        Assert.Equal(e.PostedMinor, reply.PostedMinor);
        Assert.False(reply.Replayed);
        return e;
    }

    public void Open(string accountId, long creditLimitMinor, string currency = "USD", int overcapturePercent = 0)
    {
        Reply reply = Execute(Command.OpenAccount(NextRequestId(), accountId, "cust-" + accountId, currency, creditLimitMinor, overcapturePercent));
        Assert.Equal(Status.Ok, reply.Status);
    }

    /// <summary>Authorizes with request id <paramref name="authorizationId"/> and asserts approval.</summary>
    public void Authorize(string authorizationId, string accountId, long amountMinor, string currency = "USD", int expiresInSeconds = 0)
    {
        Reply reply = Execute(Command.Authorize(authorizationId, accountId, amountMinor, currency, expiresInSeconds: expiresInSeconds));
        Assert.Equal(Status.Ok, reply.Status);
    }

    public Account AccountOf(string accountId)
    {
        Assert.True(Ledger.TryGetAccount(accountId, out Account account), $"account {accountId} not found");
        return account;
    }

    public Authorization AuthorizationOf(string authorizationId)
    {
        Assert.True(Ledger.TryGetAuthorization(authorizationId, out Authorization? authorization), $"authorization {authorizationId} not found");
        return authorization!;
    }

    /// <summary>Asserts an account's balances (available at the harness clock).</summary>
    public void AssertBalances(string accountId, long availableMinor, long heldMinor, long postedMinor)
    {
        Account account = AccountOf(accountId);
        Assert.Equal(heldMinor, account.HeldMinor);
        Assert.Equal(postedMinor, account.PostedMinor);
        Assert.Equal(availableMinor, account.Available(Now));
    }

    /// <summary>
    /// Everything a command could change, except sequence and idempotency (which a declined event advances):
    /// accounts and authorizations, rendered as text so a difference is readable.
    /// </summary>
    public string StateExceptJournal()
    {
        var text = new System.Text.StringBuilder();
        foreach (Account a in Ledger.Accounts)
        {
            text.Append($"A {a.Id} cust={a.CustomerId} limit={a.CreditLimitMinor} temp={a.TemporaryLimitMinor}@{a.TemporaryLimitExpiresAtUnixMs} ")
                .Append($"held={a.HeldMinor} posted={a.PostedMinor} open={a.OpenAuthorizations} ccy={a.CurrencyCode} {a.Status} oc={a.OvercapturePercent} ")
                .Append($"controls={a.Controls?.Spec} window={a.Controls?.WindowStartUnixMs}/{a.Controls?.WindowCount}/{a.Controls?.WindowAmountMinor}\n");
        }
        foreach (Authorization z in Ledger.Authorizations.OrderBy(z => z.Id, StringComparer.Ordinal))
        {
            text.Append($"Z {z.Id} acct={z.AccountIndex} auth={z.AuthorizedMinor} held={z.HeldMinor} cap={z.CapturedMinor} ref={z.RefundedMinor} ")
                .Append($"exp={z.ExpiresAtUnixMs} closed={z.ClosedAtUnixMs} {z.State}\n");
        }
        text.Append($"open={Ledger.OpenAuthorizationCount}");
        return text.ToString();
    }

    /// <summary>Runs <paramref name="command"/>, asserts it declines with <paramref name="status"/> as one Declined event and changes no account or authorization.</summary>
    public LedgerEvent AssertDeclined(Command command, Status status)
    {
        string before = StateExceptJournal();
        LedgerEvent e = Single(command);
        Assert.Equal(status, e.Status);
        Assert.Equal(EventType.Declined, e.Type);
        Assert.Equal(command.Type, e.Command);
        Assert.Equal(command.RequestId, e.RequestId);
        Assert.Equal(0, e.HoldReleasedMinor);
        Assert.False(e.AuthorizationClosed);
        Assert.Equal(before, StateExceptJournal());
        Ledger.CheckInvariants();
        return e;
    }
}

/// <summary>A sink that keeps no event, for tests that measure allocation: it only counts Authorized events.</summary>
public sealed class NullSink : IEventSink
{
    public int Authorized;

    public void OnEvent(in LedgerEvent ledgerEvent)
    {
        if (ledgerEvent.Type == EventType.Authorized) Authorized++;
    }
}
