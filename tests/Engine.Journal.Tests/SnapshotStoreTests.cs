using Engine.Testing;
namespace Engine.Journal.Tests;

public sealed class SnapshotStoreTests
{
    private static void WriteBody(Stream stream, int seed, int length)
    {
        var random = new Random(seed);
        var chunk = new byte[64 * 1024];
        for (int written = 0; written < length; written += chunk.Length)
        {
            random.NextBytes(chunk);
            stream.Write(chunk, 0, Math.Min(chunk.Length, length - written));
        }
    }

    private static byte[] Body(int seed, int length)
    {
        using var memory = new MemoryStream();
        WriteBody(memory, seed, length);
        return memory.ToArray();
    }

    private static byte[] ReadToEnd(Stream body)
    {
        using var memory = new MemoryStream();
        body.CopyTo(memory);
        return memory.ToArray();
    }

    [Fact]
    public void Snapshot_written_then_opened_returns_the_same_body_and_header_fields()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        const int length = 3 * 1024 * 1024 + 17;
        SnapshotInfo written = store.Write(42, 123_456, body => WriteBody(body, 1, length));
        Assert.Equal(new SnapshotInfo(42, 123_456, length, Crc32C.Compute(Body(1, length)), written.Path), written);
        Assert.Equal("snapshot-00000000000000000042.snap", Path.GetFileName(written.Path));

        Assert.True(new SnapshotStore(dir.Path).TryOpenNewestValid(out SnapshotInfo info, out Stream body));
        using (body)
        {
            Assert.Equal(written, info);
            Assert.Equal(Body(1, length), ReadToEnd(body));
        }
    }

    [Fact]
    public void No_snapshot_means_TryOpenNewestValid_returns_false()
    {
        using var dir = new TempDirectory();
        Assert.False(new SnapshotStore(dir.Path).TryOpenNewestValid(out _, out Stream body));
        Assert.Same(Stream.Null, body);
    }

    [Fact]
    public void Only_the_newest_keep_snapshots_are_kept_and_the_newest_wins()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path, keep: 2);
        for (int sequence = 1; sequence <= 12; sequence++) store.Write(sequence * 10, sequence * 1000, body => WriteBody(body, sequence, 1000));
        Assert.Equal(2, Directory.GetFiles(dir.Path, "*.snap").Length);
        Assert.True(store.TryOpenNewestValid(out SnapshotInfo info, out Stream body));
        using (body) Assert.Equal(Body(12, 1000), ReadToEnd(body));
        Assert.Equal(120, info.Sequence);
        Assert.Equal(12_000, info.JournalAddress);
    }

    [Theory]
    [InlineData(100)]   // body byte
    [InlineData(9)]     // header: sequence
    [InlineData(33)]    // header: body checksum
    [InlineData(-1)]    // truncated body
    public void A_damaged_newest_snapshot_is_reported_and_the_next_older_one_is_used(int damageAt)
    {
        using var dir = new TempDirectory();
        var log = new ListLogger();
        var store = new SnapshotStore(dir.Path, keep: 3, log);
        store.Write(1, 100, body => WriteBody(body, 1, 5000));
        SnapshotInfo newest = store.Write(2, 200, body => WriteBody(body, 2, 5000));

        if (damageAt < 0)
        {
            using var file = new FileStream(newest.Path, FileMode.Open);
            file.SetLength(file.Length - 1);
        }
        else
        {
            byte[] bytes = File.ReadAllBytes(newest.Path);
            bytes[damageAt] ^= 0x01;
            File.WriteAllBytes(newest.Path, bytes);
        }

        Assert.True(store.TryOpenNewestValid(out SnapshotInfo info, out Stream body));
        using (body) Assert.Equal(Body(1, 5000), ReadToEnd(body));
        Assert.Equal(1, info.Sequence);
        Assert.Contains(log.Entries, line => line.Level == LogLevel.Warning && line.Message.Contains(newest.Path, StringComparison.Ordinal) && line.Message.Contains("damaged", StringComparison.Ordinal));
    }

    [Fact]
    public void Temporary_files_from_a_crash_mid_write_are_ignored_and_cleaned_up()
    {
        using var dir = new TempDirectory();
        new SnapshotStore(dir.Path).Write(5, 500, body => WriteBody(body, 5, 2000));
        // A crash while writing sequence 6: a temp file with a plausible name and a half-written body.
        string leftover = Path.Combine(dir.Path, "snapshot-00000000000000000006.snap.tmp");
        File.WriteAllBytes(leftover, new byte[1000]);

        var log = new ListLogger();
        var store = new SnapshotStore(dir.Path, logger: log);
        Assert.False(File.Exists(leftover));
        Assert.Contains(log.Messages, line => line.Contains(leftover, StringComparison.Ordinal));
        Assert.True(store.TryOpenNewestValid(out SnapshotInfo info, out Stream body));
        body.Dispose();
        Assert.Equal(5, info.Sequence);

        File.WriteAllBytes(leftover, new byte[1000]); // and one appearing while the store is open
        Assert.True(store.TryOpenNewestValid(out info, out body));
        body.Dispose();
        Assert.Equal(5, info.Sequence);
    }

    [Fact]
    public void A_body_writer_that_throws_leaves_no_snapshot_behind()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        Assert.Throws<InvalidOperationException>(() => store.Write(1, 1, body =>
        {
            WriteBody(body, 1, 100);
            throw new InvalidOperationException("ledger busy");
        }));
        Assert.Empty(Directory.GetFiles(dir.Path));
        Assert.False(store.TryOpenNewestValid(out _, out _));
    }

    [Fact]
    public void A_snapshot_being_streamed_stays_readable_while_newer_snapshots_prune_its_file()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path, keep: 1);
        const int length = 2 * 1024 * 1024 + 5;
        store.Write(1, 100, body => WriteBody(body, 1, length));
        Assert.True(store.TryOpenNewestValid(out SnapshotInfo info, out Stream body));
        using (body)
        {
            byte[] start = new byte[1000];
            body.ReadExactly(start);
            store.Write(2, 200, b => WriteBody(b, 2, 100));
            store.Write(3, 300, b => WriteBody(b, 3, 100));
            Assert.False(File.Exists(info.Path), "keep = 1 prunes the snapshot being read");

            byte[] rest = ReadToEnd(body);
            byte[] whole = [.. start, .. rest];
            Assert.Equal(Body(1, length), whole);
            Assert.Equal(info.BodyCrc32C, Crc32C.Compute(whole));
        }
        Assert.True(store.TryOpenNewestValid(out info, out body));
        body.Dispose();
        Assert.Equal(3, info.Sequence);
    }

    [Fact]
    public void The_oldest_journal_address_is_the_oldest_kept_snapshots_and_unknown_when_a_header_is_damaged()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path, keep: 2);
        Assert.False(store.TryGetOldestJournalAddress(out _));
        store.Write(1, 1_000, body => WriteBody(body, 1, 10));
        Assert.True(store.TryGetOldestJournalAddress(out long oldest));
        Assert.Equal(1_000, oldest);
        store.Write(2, 2_000, body => WriteBody(body, 2, 10));
        SnapshotInfo third = store.Write(3, 3_000, body => WriteBody(body, 3, 10));
        Assert.True(store.TryGetOldestJournalAddress(out oldest));
        Assert.Equal(2_000, oldest); // snapshot 1 was pruned

        // A damaged header leaves the answer unknown: truncating on a guess could cut a snapshot off from its log.
        byte[] bytes = File.ReadAllBytes(third.Path);
        bytes[20] ^= 0x01; // inside the journal address field
        File.WriteAllBytes(third.Path, bytes);
        Assert.False(store.TryGetOldestJournalAddress(out _));
    }
}
