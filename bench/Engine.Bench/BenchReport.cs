using System.Text.Json;
using HdrHistogram;

namespace Engine.Bench;

/// <summary>Prints results and writes them as JSON (snake_case keys, as the README and RESULTS.md quote them).</summary>
internal static class BenchReport
{
    public static void PrintLatency(string title, HistogramBase histogramUs)
    {
        Console.WriteLine($"{title} latency (µs): p50={histogramUs.GetValueAtPercentile(50)} p90={histogramUs.GetValueAtPercentile(90)} " +
                          $"p99={histogramUs.GetValueAtPercentile(99)} p99.9={histogramUs.GetValueAtPercentile(99.9)} max={histogramUs.GetMaxValue()} (n={histogramUs.TotalCount})");
    }

    public static void WriteJson(string? path, Dictionary<string, object?> result)
    {
        string json = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine(json);
        if (path is null) return;
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        File.WriteAllText(path, json);
        Console.WriteLine($"wrote {path}");
    }

    public static Dictionary<string, object?> Machine() => new()
    {
        ["machine_cores"] = Environment.ProcessorCount,
        ["machine_os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
    };
}
