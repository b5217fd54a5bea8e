using Engine.LoadTest;

// Load generator for a running engine: `dotnet run -c Release --project loadtest/Engine.LoadTest -- --help`.
// Exit codes: 0 run passed its thresholds, 1 a threshold was broken, 2 bad usage, 3 the run could not happen.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C ends the run early and still writes the report; a second one kills the process.
    if (cancel.IsCancellationRequested) return;
    e.Cancel = true;
    cancel.Cancel();
};
return await LoadTestApp.RunAsync(args, Console.Out, Console.Error, cancel.Token);
