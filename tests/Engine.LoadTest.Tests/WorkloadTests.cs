using Credit.V1;
using Engine.LoadTest;

namespace Engine.LoadTest.Tests;

/// <summary>The generated commands: capture and void act only on authorizations this run got approved; accounts follow the zipf setting.</summary>
public sealed class WorkloadTests
{
    [Fact]
    public void Capture_and_void_name_only_approved_authorizations_once_each_and_fall_back_to_authorize_when_none_are_open()
    {
        var options = new LoadTestOptions { Mix = WorkloadMix.Parse("capture=50,void=50"), Accounts = 10 };
        var workload = new Workload(options, "wl");
        var first = new Command[100];
        workload.Fill(first);
        Assert.All(first, c => Assert.Equal(Command.CommandOneofCase.Authorize, c.CommandCase));

        // The engine approves the even ones only.
        CommandReply[] replies = [.. first.Select((_, i) => new CommandReply { Status = i % 2 == 0 ? Credit.V1.Status.Ok : Credit.V1.Status.InsufficientCredit })];
        workload.Learn(first, replies);
        HashSet<string> approved = [.. first.Where((_, i) => i % 2 == 0).Select(c => c.Authorize.RequestId)];
        Dictionary<string, long> amounts = first.ToDictionary(c => c.Authorize.RequestId, c => c.Authorize.Amount);

        var second = new Command[100];
        workload.Fill(second);
        string[] named = [.. second.Where(c => c.CommandCase != Command.CommandOneofCase.Authorize)
            .Select(c => c.CommandCase == Command.CommandOneofCase.Capture ? c.Capture.AuthorizationId : c.Void.AuthorizationId)];
        Assert.Equal(50, named.Length); // every approved authorization was used once, then the rest fell back to authorize
        Assert.All(named, id => Assert.Contains(id, approved));
        Assert.Equal(named.Length, named.Distinct().Count());
        Assert.All(second.Where(c => c.CommandCase == Command.CommandOneofCase.Capture), c => Assert.InRange(c.Capture.Amount, 1, amounts[c.Capture.AuthorizationId]));
    }

    [Fact]
    public void Request_ids_are_unique_and_carry_the_run_id()
    {
        var workload = new Workload(new LoadTestOptions(), "run42");
        var commands = new Command[5_000];
        workload.Fill(commands);
        string[] ids = [.. commands.Select(RequestId)];
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.All(ids, id => Assert.StartsWith("run42-", id));
    }

    [Fact]
    public void Zipf_makes_the_first_accounts_hot_and_exponent_zero_is_uniform()
    {
        var random = new Random(7);
        int[] zipf = Histogram(new ZipfSampler(1_000, 1.2), random, 200_000);
        int[] uniform = Histogram(new ZipfSampler(1_000, 0), random, 200_000);

        Assert.True(zipf[0] > 50 * Math.Max(1, zipf[999]), $"account 0: {zipf[0]}, account 999: {zipf[999]}");
        Assert.True(zipf[0] > zipf[1] && zipf[1] > zipf[10]);
        Assert.All(uniform, count => Assert.InRange(count, 100, 320)); // expected 200 each
    }

    [Fact]
    public void The_mix_picks_each_kind_in_proportion_to_its_weight()
    {
        WorkloadMix mix = WorkloadMix.Parse("authorize=70,capture=15,void=10,repay=5");
        int[] counts = new int[Enum.GetValues<CommandKind>().Length];
        for (int roll = 0; roll < mix.Total; roll++) counts[(int)mix.KindOf(roll)]++;
        Assert.Equal([70, 15, 10, 5, 0, 0], counts);
    }

    private static int[] Histogram(ZipfSampler sampler, Random random, int samples)
    {
        var counts = new int[1_000];
        for (int i = 0; i < samples; i++) counts[sampler.Next(random)]++;
        return counts;
    }

    private static string RequestId(Command command) => command.CommandCase switch
    {
        Command.CommandOneofCase.Authorize => command.Authorize.RequestId,
        Command.CommandOneofCase.Capture => command.Capture.RequestId,
        Command.CommandOneofCase.Void => command.Void.RequestId,
        Command.CommandOneofCase.Repay => command.Repay.RequestId,
        _ => throw new InvalidOperationException(command.CommandCase.ToString()),
    };
}
