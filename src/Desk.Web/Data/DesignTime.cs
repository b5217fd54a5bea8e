using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Desk.Web.Data;

// For "dotnet ef migrations add X --context SqliteDeskDb|PostgresDeskDb --output-dir Data/Migrations/Sqlite|Postgres".
public sealed class SqliteDesignFactory : IDesignTimeDbContextFactory<SqliteDeskDb>
{
    public SqliteDeskDb CreateDbContext(string[] args) => new(new DbContextOptionsBuilder<SqliteDeskDb>().UseSqlite("Data Source=design.db").Options);
}

public sealed class PostgresDesignFactory : IDesignTimeDbContextFactory<PostgresDeskDb>
{
    public PostgresDeskDb CreateDbContext(string[] args) => new(new DbContextOptionsBuilder<PostgresDeskDb>().UseNpgsql("Host=127.0.0.1;Database=desk").Options);
}
