using Engine.Domain;

namespace Engine.Domain.Tests;

/// <summary>
/// The background pass that makes a sized ledger's tables resident touches pages without changing a value, so it may
/// run while another thread fills the same tables.
/// </summary>
public sealed class PagePrefaultTests
{
    private struct WithReference
    {
        public string? Name;
        public long Value;
    }

    [Fact]
    public async Task Touching_pages_keeps_every_value_another_thread_writes_meanwhile()
    {
        const int count = 4 << 20; // 32 MiB of longs
        var values = new long[count];
        var regions = new List<PagePrefault.Region> { PagePrefault.Region.Of(values) };
        // The filler writes every element (non-zero) while the toucher runs over the same pages, several times.
        var filler = Task.Run(() =>
        {
            for (int i = 0; i < count; i++) values[i] = i + 1L;
        });
        var toucher = Task.Run(() =>
        {
            for (int pass = 0; pass < 4; pass++) PagePrefault.PopulateNow(regions);
        });
        await Task.WhenAll(filler, toucher);
        for (int i = 0; i < count; i++)
        {
            if (values[i] != i + 1L) Assert.Fail($"element {i} is {values[i]}, written {i + 1}");
        }
    }

    [Fact]
    public void Touching_a_struct_with_references_goes_through_a_named_field_and_leaves_the_reference()
    {
        var items = new WithReference[4096];
        for (int i = 0; i < items.Length; i++) items[i] = new WithReference { Name = $"n{i}", Value = i };
        Assert.Throws<ArgumentException>(() => PagePrefault.Region.Of(items));
        WithReference sample = default;
        var region = PagePrefault.Region.Of(items, PagePrefault.OffsetOf(ref sample, ref sample.Value));
        PagePrefault.PopulateNow([region]);
        for (int i = 0; i < items.Length; i++)
        {
            Assert.Equal($"n{i}", items[i].Name);
            Assert.Equal(i, items[i].Value);
        }
    }

    [Fact]
    public async Task A_ledger_sized_for_millions_makes_its_tables_resident_in_the_background_and_a_small_one_starts_nothing()
    {
        Assert.Null(new Ledger().Prefaulting);
        var sized = new Ledger(new LedgerOptions { ExpectedAccounts = 100_000, ExpectedAuthorizations = 1_000_000, ExpectedRequestIds = 1_000_000 });
        Assert.NotNull(sized.Prefaulting);
        long populated = await sized.Prefaulting!.WaitAsync(TimeSpan.FromMinutes(2));
        // At least the authorization slots (1M records) and the request-id records (1M) were covered.
        Assert.True(populated >= PagePrefault.MinBytes, $"{populated} bytes made resident");
    }
}
