namespace Engine.Server.Tests;

/// <summary>Settings the operator gives are never silently ignored.</summary>
public sealed class SettingsTests
{
    [Fact]
    public async Task A_limit_under_its_old_name_refuses_start_and_names_the_new_key()
    {
        string dataDirectory = TestServer.NewDataDirectory();
        (int exitCode, string output) = await ChildServer.RunToExitAsync(dataDirectory, TimeSpan.FromSeconds(60), "--Engine:Ledger:MaxAccounts=10");

        Assert.True(exitCode == Engine.Server.Hosting.ServerApp.ExitCodeStartupRefused, $"exit {exitCode}:\n{output}");
        Assert.Contains("'Engine:Ledger:MaxAccounts' is now 'Engine:Ledger:AccountsMax'", output, StringComparison.Ordinal);
    }
}
