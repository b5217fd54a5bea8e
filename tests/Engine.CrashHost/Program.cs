using Engine.Core;
using Engine.CrashHost;
using Engine.Domain;

// usage: Engine.CrashHost <data-directory> <accounts> <max-seconds> [truncate]
// Prints "READY" once accounts are open, then "ACK <n> <status> <sequence>" for every acknowledged command,
// flushed before the next batch is submitted. Stops by itself after max-seconds (a test kills it long before).
if (args.Length is not (3 or 4) || (args.Length == 4 && args[3] != "truncate"))
{
    Console.Error.WriteLine("usage: Engine.CrashHost <data-directory> <accounts> <max-seconds> [truncate]");
    return 2;
}
string dataDirectory = args[0];
int accounts = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
int maxSeconds = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };

bool truncateJournal = args.Length == 4;
await using var engine = CreditEngine.Start(CrashWorkload.Options(dataDirectory, truncateJournal));
for (int i = 0; i < accounts; i++)
{
    Reply opened = await engine.SubmitAsync(CrashWorkload.OpenAccount(i), waitForCapacity: true);
    if (opened.Status is not (Status.Ok)) throw new InvalidOperationException($"open {i}: {opened}");
}
stdout.WriteLine("READY");
stdout.Flush();

const int lanes = 4;
const int batchSize = 32;
var deadline = DateTime.UtcNow.AddSeconds(maxSeconds);
var gate = new object();
var tasks = new Task[lanes];
for (int lane = 0; lane < lanes; lane++)
{
    int laneId = lane;
    tasks[lane] = Task.Run(async () =>
    {
        var commands = new Command[batchSize];
        var replies = new Reply[batchSize];
        // Lane l issues batch numbers l, l + lanes, …; command n = batch * batchSize + i.
        for (long batch = laneId; DateTime.UtcNow < deadline && batch < 1_000_000; batch += lanes)
        {
            for (int i = 0; i < batchSize; i++) commands[i] = CrashWorkload.For(batch * batchSize + i, accounts);
            await engine.SubmitBatchAsync(commands, replies, waitForCapacity: true);
            lock (gate)
            {
                for (int i = 0; i < batchSize; i++)
                {
                    stdout.WriteLine($"ACK {batch * batchSize + i} {replies[i].Status} {replies[i].Sequence}");
                }
                stdout.Flush();
            }
        }
    });
}
await Task.WhenAll(tasks);
return 0;
