using System.Diagnostics;
using System.Text;

namespace Engine.Bench.Peers;

/// <summary>Runs a short-lived command to completion within a timeout and returns its exit code and output (stdout and stderr, interleaved).</summary>
internal static class ExternalProcess
{
    /// <summary>Output kept per command: enough for an error message, bounded for apt-get's chatter.</summary>
    private const int OutputCharsMax = 64 * 1024;

    public sealed record Result(int ExitCode, string Output);

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken ct,
        string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        if (environment is not null)
        {
            foreach ((string name, string value) in environment) start.Environment[name] = value;
        }
        var output = new StringBuilder();
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (output)
            {
                if (output.Length < OutputCharsMax) output.AppendLine(line);
            }
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } // already exited
            ct.ThrowIfCancellationRequested();
            throw new TimeoutException($"'{Describe(fileName, start.ArgumentList)}' did not finish within {timeout.TotalSeconds:F0} s:\n{Text(output)}");
        }
        process.WaitForExit(); // drains the asynchronous output readers
        return new Result(process.ExitCode, Text(output));
    }

    /// <summary>Like <see cref="RunAsync"/>, but a non-zero exit code throws with the command and its output.</summary>
    public static async Task<string> RunCheckedAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken ct,
        string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        string[] list = arguments.ToArray();
        Result result = await RunAsync(fileName, list, timeout, ct, workingDirectory, environment).ConfigureAwait(false);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"'{Describe(fileName, list)}' exited with {result.ExitCode}:\n{result.Output}");
        return result.Output;
    }

    public static string Describe(string fileName, IEnumerable<string> arguments) =>
        string.Join(' ', new[] { fileName }.Concat(arguments).Select(a => a.Length == 0 || a.Contains(' ') ? $"'{a}'" : a));

    private static string Text(StringBuilder output)
    {
        lock (output) return output.ToString();
    }
}
