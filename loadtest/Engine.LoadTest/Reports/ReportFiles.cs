namespace Engine.LoadTest.Reports;

/// <summary>Writes the JSON at the path given and the Markdown and HTML reports next to it (same name, .md / .html).</summary>
public static class ReportFiles
{
    public static (string Json, string Markdown, string Html) PathsFor(string jsonPath) =>
        (jsonPath, Path.ChangeExtension(jsonPath, ".md"), Path.ChangeExtension(jsonPath, ".html"));

    public static (string Json, string Markdown, string Html) Write(string jsonPath, LoadTestReport report)
    {
        var paths = PathsFor(jsonPath);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(jsonPath));
        if (directory is not null) Directory.CreateDirectory(directory);
        File.WriteAllText(paths.Json, JsonReport.Write(report));
        File.WriteAllText(paths.Markdown, MarkdownReport.Write(report));
        File.WriteAllText(paths.Html, HtmlReport.Write(report));
        return paths;
    }
}
