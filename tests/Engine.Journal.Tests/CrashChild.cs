using System.Globalization;

namespace Engine.Journal.Tests;

/// <summary>
/// Entry point of this assembly when a crash test runs it as a child process:
/// <c>append-then-hang DIR COMMITTED UNCOMMITTED PAYLOAD_BYTES</c> appends COMMITTED records and commits them,
/// prints <c>COMMITTED address</c>, appends UNCOMMITTED more without committing (enough to make FASTER flush pages
/// to disk), prints <c>READY</c> and waits to be killed.
/// </summary>
public static class CrashChild
{
    public static int Main(string[] args)
    {
        if (args.Length == 5 && args[0] == "append-then-hang")
        {
            string directory = args[1];
            int committed = int.Parse(args[2], CultureInfo.InvariantCulture);
            int uncommitted = int.Parse(args[3], CultureInfo.InvariantCulture);
            int payloadBytes = int.Parse(args[4], CultureInfo.InvariantCulture);

            var journal = EventJournal.Open(Journals.Small(directory));
            for (int i = 0; i < committed; i++) journal.Append(Journals.Payload(i, payloadBytes));
            long until = journal.Commit();
            Console.WriteLine($"COMMITTED {until}");
            for (int i = committed; i < committed + uncommitted; i++) journal.Append(Journals.Payload(i, payloadBytes));
            Thread.Sleep(300); // let FASTER flush the completed pages, so uncommitted bytes really are on disk
            Console.WriteLine($"READY {journal.TailAddress}");
            Console.Out.Flush();
            Thread.Sleep(Timeout.Infinite);
            GC.KeepAlive(journal);
            return 0;
        }
        if (args.Length == 5 && args[0] == "truncate-then-hang")
        {
            string directory = args[1];
            int records = int.Parse(args[2], CultureInfo.InvariantCulture);
            int payloadBytes = int.Parse(args[3], CultureInfo.InvariantCulture);
            int keepFrom = int.Parse(args[4], CultureInfo.InvariantCulture);

            var journal = EventJournal.Open(Journals.Small(directory));
            long keepFromAddress = 0;
            for (int i = 0; i < records; i++)
            {
                long address = journal.Append(Journals.Payload(i, payloadBytes));
                if (i == keepFrom) keepFromAddress = address;
            }
            journal.Commit();
            journal.TruncateBefore(keepFromAddress);
            Console.WriteLine($"TRUNCATED {journal.BeginAddress}");
            Console.Out.Flush();
            Thread.Sleep(Timeout.Infinite);
            GC.KeepAlive(journal);
            return 0;
        }
        Console.Error.WriteLine("usage: append-then-hang DIR COMMITTED UNCOMMITTED PAYLOAD_BYTES | truncate-then-hang DIR RECORDS PAYLOAD_BYTES KEEP_FROM");
        return 2;
    }
}
