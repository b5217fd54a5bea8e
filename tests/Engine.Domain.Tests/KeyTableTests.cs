namespace Engine.Domain.Tests;

public class KeyTableTests
{
    // Keys whose low bits are equal land in the same home bucket: they exercise probing and backward-shift deletion.
    private static UInt128 SameBucket(int i) => new((ulong)i + 1, 5);

    [Fact]
    public void A_key_table_answers_like_a_dictionary_through_random_adds_removes_and_growth()
    {
        var random = new Random(11);
        var table = KeyTable.Create(expected: 8, entriesMax: 100_000);
        var reference = new Dictionary<UInt128, long>();
        var keys = new List<UInt128>();
        for (int step = 0; step < 60_000; step++)
        {
            // A small key universe with clustered low bits keeps runs long and removals frequent.
            var key = new UInt128((ulong)random.Next(4_000), (ulong)random.Next(64));
            switch (random.Next(3))
            {
                case 0:
                    long value = random.Next(1_000_000);
                    Assert.Equal(reference.TryAdd(key, value), table.TryAdd(key, value));
                    keys.Add(key);
                    break;
                case 1:
                    Assert.Equal(reference.Remove(key), table.Remove(key));
                    break;
                default:
                    Assert.Equal(reference.TryGetValue(key, out long expected), table.TryGetValue(key, out long actual));
                    if (reference.ContainsKey(key)) Assert.Equal(expected, actual);
                    break;
            }
            Assert.Equal(reference.Count, table.Count);
        }
        foreach (UInt128 key in keys) Assert.Equal(reference.ContainsKey(key), table.ContainsKey(key));
        Assert.True(table.Growths > 0, "the test should have made the table grow");
    }

    [Fact]
    public void Removing_from_the_middle_of_a_probe_run_keeps_every_later_key_findable()
    {
        var table = KeyTable.Create(expected: 16, entriesMax: 16);
        for (int i = 0; i < 6; i++) Assert.True(table.TryAdd(SameBucket(i), i));
        Assert.True(table.Remove(SameBucket(2)));
        Assert.False(table.ContainsKey(SameBucket(2)));
        for (int i = 0; i < 6; i++)
        {
            if (i == 2) continue;
            Assert.True(table.TryGetValue(SameBucket(i), out long value));
            Assert.Equal(i, value);
        }
        Assert.False(table.Remove(SameBucket(2)));
        Assert.Equal(5, table.Count);
    }

    [Fact]
    public void A_key_already_present_is_not_added_again_and_Set_overwrites_it()
    {
        var table = KeyTable.Create(expected: 4, entriesMax: 4);
        Assert.True(table.TryAdd(7, 1));
        Assert.False(table.TryAdd(7, 2));
        Assert.True(table.TryGetValue(7, out long value));
        Assert.Equal(1, value);
        table.Set(7, 3);
        Assert.True(table.TryGetValue(7, out value));
        Assert.Equal(3, value);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void A_full_key_table_reports_no_room_and_refuses_an_add_without_changing()
    {
        // Room for at least 12 entries (the power of two above 12 × 4/3 at a load of 3/4: 32 slots, 24 entries).
        var table = KeyTable.Create(expected: 0, entriesMax: 12);
        int added = 0;
        while (table.HasRoom) Assert.True(table.TryAdd(new UInt128(0, (ulong)++added), added));
        Assert.Equal(24, added);
        Assert.Throws<InvalidOperationException>(() => table.TryAdd(new UInt128(1, 1), 0));
        Assert.Equal(24, table.Count);
        Assert.Equal(32, table.Capacity);
        for (int i = 1; i <= 24; i++) Assert.True(table.ContainsKey(new UInt128(0, (ulong)i)));
    }

    [Fact]
    public void A_key_table_sized_from_the_hint_does_not_grow()
    {
        var table = KeyTable.Create(expected: 10_000, entriesMax: 1_000_000);
        for (int i = 0; i < 10_000; i++) table.TryAdd(Fingerprints.RequestKey($"id-{i}"), i);
        Assert.Equal(0, table.Growths);
    }

    [Fact]
    public void A_positional_queue_keeps_positions_across_chunks_and_reuses_chunks()
    {
        var queue = new PositionalQueue<long>();
        for (long i = 0; i < 100_000; i++) Assert.Equal(i, queue.Enqueue(i * 3));
        for (long i = 0; i < 70_000; i++) queue.Dequeue();
        for (long i = 100_000; i < 250_000; i++) Assert.Equal(i, queue.Enqueue(i * 3));
        Assert.Equal(70_000, queue.HeadPosition);
        Assert.Equal(180_000, queue.Count);
        for (long p = queue.HeadPosition; p < queue.TailPosition; p += 997) Assert.Equal(p * 3, queue.At(p));
        Assert.Equal(70_000 * 3, queue.Peek());
    }
}
