using System.Reflection;
using System.Xml.Linq;

namespace Desk.Web.Tests;

public class DeskBoundaryTests
{
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Engine.sln not found above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData("Desk.Web")]
    [InlineData("Desk.Domain")]
    public void Desk_references_no_engine_internals_only_the_client_and_protos(string assemblyName)
    {
        var assembly = Assembly.Load(assemblyName);
        string[] engine = assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("Engine.", StringComparison.Ordinal)).ToArray();
        Assert.All(engine, n => Assert.Equal("Engine.Client", n));

        string project = Path.Combine(RepoRoot(), "src", assemblyName, assemblyName + ".csproj");
        var references = XDocument.Load(project).Descendants("ProjectReference").Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value)).ToArray();
        Assert.All(references.Where(r => r.StartsWith("Engine.", StringComparison.Ordinal)), r => Assert.Equal("Engine.Client", r));
    }

    [Fact]
    public void Desk_domain_does_no_io()
    {
        var assembly = Assembly.Load("Desk.Domain");
        string[] referenced = assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.DoesNotContain(referenced, n => n.Contains("EntityFramework") || n.Contains("AspNetCore") || n.Contains("Grpc") || n == "System.Net.Http");
        // No file, network or clock access in the domain's code: scan its IL's member references.
        var forbidden = new[] { typeof(File), typeof(Directory), typeof(FileStream), typeof(System.Net.Http.HttpClient) };
        foreach (var type in assembly.GetTypes())
        foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
        {
            Assert.DoesNotContain(method.GetParameters(), p => forbidden.Contains(p.ParameterType));
        }
        Assert.DoesNotContain("DateTimeOffset.Now", File.ReadAllText(Path.Combine(RepoRoot(), "src", "Desk.Domain", "ApprovalFlow.cs")));
    }
}
