using Credit.V1;
using static Engine.Server.Tests.Wire;

namespace Engine.Server.Tests;

/// <summary>One engine per data directory: a second process refuses to start, and kill -9 leaves no stale lock.</summary>
public sealed class DataDirectoryLockTests
{
    [Fact]
    public async Task A_second_engine_process_on_the_same_data_directory_refuses_to_start_and_a_killed_one_leaves_no_lock()
    {
        string dataDirectory = TestServer.NewDataDirectory();
        string account = Id("acct");
        long approvedSequence;
        using (ChildServer first = await ChildServer.StartAsync(dataDirectory))
        {
            await first.Accounts.OpenAccountAsync(new OpenAccountRequest { RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 1_000 }, Deadline(30));

            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ChildServer.StartAsync(dataDirectory));
            Assert.Contains("is in use by another engine", refused.Message);
            Assert.Contains($"(process {first.Process.Id})", refused.Message);

            // The first engine did not notice: it still serves.
            AuthorizeResponse approved = await first.Authorization.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 10, Currency = "USD" }, Deadline(30));
            Assert.True(approved.Approved);
            approvedSequence = approved.Sequence;
            first.KillHard();
        }

        // The kernel dropped the dead process's lock: a restart needs no operator to delete a file.
        using ChildServer second = await ChildServer.StartAsync(dataDirectory);
        GetAccountResponse state = await second.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = approvedSequence }, Deadline(30));
        Assert.Equal(10, state.Account.Held);
    }
}
