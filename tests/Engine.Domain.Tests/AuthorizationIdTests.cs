using System.Runtime.CompilerServices;

namespace Engine.Domain.Tests;

/// <summary>An authorization's id is kept as bytes inside its record (40 characters inline, longer ones as a string).</summary>
public sealed class AuthorizationIdTests
{
    public static TheoryData<int> IdLengths => [1, 36, AuthorizationRecord.InlineIdLengthMax, AuthorizationRecord.InlineIdLengthMax + 1, CommandValidator.IdLengthMax];

    private static string IdOfLength(int length) => string.Concat(Enumerable.Range(0, length).Select(i => (char)('!' + i % 94)));

    [Theory]
    [MemberData(nameof(IdLengths))]
    public void An_authorization_id_of_any_valid_length_is_found_captured_and_snapshotted_as_given(int length)
    {
        string id = IdOfLength(length);
        var h = new LedgerHarness();
        h.Open("acct-1", 1_000);
        h.Authorize(id, "acct-1", 300);

        Assert.Equal(id, h.AuthorizationOf(id).Id);
        string sameLengthOther = id[..^1] + (id[^1] == 'x' ? 'y' : 'x');
        Assert.False(h.Ledger.TryGetAuthorization(sameLengthOther, out _));
        var (reply, events) = h.Run(Command.Capture(h.NextRequestId(), id, 300, final: true));
        Assert.Equal(Status.Ok, reply.Status);
        Assert.Equal(id, Assert.Single(events).AuthorizationId);

        var stream = new MemoryStream();
        h.Ledger.WriteSnapshot(stream);
        stream.Position = 0;
        Ledger restored = Ledger.ReadSnapshot(stream, h.Ledger.Options);
        Assert.True(restored.TryGetAuthorization(id, out Authorization? copy));
        Assert.Equal(id, copy.Id);
        Assert.Equal(h.Ledger.ComputeDigest(), restored.ComputeDigest());
    }

    [Fact]
    public void An_open_hold_keeps_no_string_of_its_id_alive()
    {
        // The ids of open holds were what every gen1 collection promoted (bench/RESULTS.md "Ids of holds inline").
        var ledger = new Ledger();
        var sink = new NullSink();
        Assert.Equal(Status.Ok, ledger.Execute(Command.OpenAccount("open", "acct-1", "cust-1", "USD", 1_000), LedgerHarness.T0, sink).Status);
        WeakReference id = AuthorizeWithAFreshId(ledger, sink, 42);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(id.IsAlive);
        Assert.True(ledger.TryGetAuthorization("hold-" + 42, out Authorization? hold));
        Assert.Equal(300, hold.HeldMinor);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AuthorizeWithAFreshId(Ledger ledger, IEventSink sink, int n)
    {
        string id = "hold-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture); // built at run time, not interned
        Assert.Equal(Status.Ok, ledger.Execute(Command.Authorize(id, "acct-1", 300, "USD"), LedgerHarness.T0, sink).Status);
        return new WeakReference(id);
    }
}
