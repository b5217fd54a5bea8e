namespace Engine.Domain.Tests;

public class DueListTests
{
    private static Due DueOn(int day, long amount = 100) => new() { DueDay = day, AmountMinor = amount };

    private static int[] Days(in DueList dues) => [.. dues.Select(d => d.DueDay)];

    [Fact]
    public void A_due_list_answers_like_a_list_through_random_inserts_removals_and_writes()
    {
        // The first due lives inline and the rest in an array: every operation must cross that boundary correctly.
        var random = new Random(7);
        var dues = new DueList();
        var reference = new List<Due>();
        for (int step = 0; step < 20_000; step++)
        {
            switch (random.Next(4))
            {
                case 0:
                {
                    int at = random.Next(reference.Count + 1);
                    Due due = DueOn(random.Next(1_000), random.Next(1, 10_000));
                    dues.Insert(at, due);
                    reference.Insert(at, due);
                    break;
                }
                case 1 when reference.Count > 0:
                {
                    int at = random.Next(reference.Count);
                    int count = random.Next(reference.Count - at + 1);
                    dues.RemoveRange(at, count);
                    reference.RemoveRange(at, count);
                    break;
                }
                case 2 when reference.Count > 0:
                {
                    int at = random.Next(reference.Count);
                    Due paid = reference[at];
                    paid.PaidMinor = paid.AmountMinor / 2;
                    paid.Reminded = true;
                    dues[at] = paid;
                    reference[at] = paid;
                    break;
                }
                case 3 when reference.Count > 0:
                    dues.RemoveAt(reference.Count - 1);
                    reference.RemoveAt(reference.Count - 1);
                    break;
            }
            Assert.Equal(reference.Count, dues.Count);
            Assert.Equal(reference, dues);
        }
    }

    [Fact]
    public void Paying_off_the_inline_first_due_moves_the_next_one_into_its_place()
    {
        var dues = new DueList();
        dues.Add(DueOn(10));
        dues.Add(DueOn(20));
        dues.Add(DueOn(30));

        dues.RemoveRange(0, 1);

        Assert.Equal([20, 30], Days(dues));
        Assert.Equal(20, dues[0].DueDay);
        Assert.Equal(30, dues[^1].DueDay);
    }

    [Fact]
    public void A_due_inserted_before_the_first_pushes_the_first_into_the_array()
    {
        var dues = new DueList();
        dues.Add(DueOn(20));
        dues.Insert(0, DueOn(10));
        dues.Insert(1, DueOn(15));

        Assert.Equal([10, 15, 20], Days(dues));
    }

    [Fact]
    public void A_cloned_due_list_shares_no_dues_with_its_original()
    {
        var dues = new DueList();
        dues.Add(DueOn(10));
        dues.Add(DueOn(20));
        DueList copy = dues.Clone();

        dues[1] = DueOn(20, amount: 999);
        dues.RemoveAt(0);

        Assert.Equal([10, 20], Days(copy));
        Assert.Equal(100, copy[1].AmountMinor);
    }

    [Fact]
    public void Reading_or_writing_a_due_past_the_count_is_refused()
    {
        var dues = new DueList();
        dues.Add(DueOn(10));
        dues.Add(DueOn(20));
        dues.RemoveAt(1);

        // The removed due's slot is still in the array; the list must not hand it back.
        Assert.Throws<ArgumentOutOfRangeException>(() => dues[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => { var d = dues; d[1] = DueOn(5); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { var d = dues; d.Insert(3, DueOn(5)); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { var d = dues; d.RemoveRange(0, 2); });
    }
}
