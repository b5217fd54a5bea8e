using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Desk.Web.Data;

/// <summary>
/// Per-connection SQLite settings for a desk of 100,000 customers: a 64 MiB page cache (the default is 2 MiB, so the
/// cockpit's grouped queries re-read most pages through system calls) and up to 256 MiB memory-mapped reads. Set on every
/// open (pooled connections keep them; the statements cost microseconds). Measured in bench/RESULTS.md "Credit desk".
/// </summary>
public sealed class SqliteTuning : DbConnectionInterceptor
{
    public static readonly SqliteTuning Instance = new();
    private const string Pragmas = "PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
