using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Desk.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CollectionsProjection : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "BillingMode",
                table: "EngineAccounts",
                type: "TEXT",
                maxLength: 10,
                nullable: false,
                defaultValue: "NONE");

            migrationBuilder.AddColumn<string>(
                name: "DelinquencyStage",
                table: "EngineAccounts",
                type: "TEXT",
                maxLength: 20,
                nullable: false,
                defaultValue: "CURRENT");

            migrationBuilder.AddColumn<long>(
                name: "DepositMinor",
                table: "EngineAccounts",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<bool>(
                name: "FrozenManually",
                table: "EngineAccounts",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<long>(
                name: "LastEventAtUnixMs",
                table: "EngineAccounts",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<int>(
                name: "OldestDueDay",
                table: "EngineAccounts",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "PastDueMinor",
                table: "EngineAccounts",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "ReceivablesMinor",
                table: "EngineAccounts",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<int>(
                name: "OldestDueDay",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "PastDueMinor",
                table: "Customers",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "ReceivablesMinor",
                table: "Customers",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "ClosedAt",
                table: "CollectionCases",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "EngineSequence",
                table: "CollectionActions",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "RefActionId",
                table: "CollectionActions",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "AccountDues",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AccountId = table.Column<string>(type: "TEXT", nullable: false),
                    CustomerId = table.Column<long>(type: "INTEGER", nullable: false),
                    DueDay = table.Column<int>(type: "INTEGER", nullable: false),
                    AmountMinor = table.Column<long>(type: "INTEGER", nullable: false),
                    PaidMinor = table.Column<long>(type: "INTEGER", nullable: false),
                    PastDueCounted = table.Column<bool>(type: "INTEGER", nullable: false),
                    Reminded = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AccountDues", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AccountPayments",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Sequence = table.Column<long>(type: "INTEGER", nullable: false),
                    AccountId = table.Column<string>(type: "TEXT", nullable: false),
                    CustomerId = table.Column<long>(type: "INTEGER", nullable: false),
                    AtUnixMs = table.Column<long>(type: "INTEGER", nullable: false),
                    Month = table.Column<int>(type: "INTEGER", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    AmountMinor = table.Column<long>(type: "INTEGER", nullable: false),
                    DuesPaidMinor = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AccountPayments", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "CollectionTasks",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    CaseId = table.Column<long>(type: "INTEGER", nullable: false),
                    AccountId = table.Column<string>(type: "TEXT", nullable: false),
                    TriggerKey = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Queue = table.Column<string>(type: "TEXT", nullable: false),
                    AssignedTo = table.Column<string>(type: "TEXT", nullable: true),
                    Text = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    DoneAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CollectionTasks", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "PortfolioMonths",
                columns: table => new
                {
                    Month = table.Column<int>(type: "INTEGER", nullable: false),
                    CollectedMinor = table.Column<long>(type: "INTEGER", nullable: false),
                    DuesPaidMinor = table.Column<long>(type: "INTEGER", nullable: false),
                    NewPastDueMinor = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PortfolioMonths", x => x.Month);
                });

            migrationBuilder.CreateIndex(
                name: "IX_EngineAccounts_DelinquencyStage_PastDueMinor",
                table: "EngineAccounts",
                columns: new[] { "DelinquencyStage", "PastDueMinor" });

            migrationBuilder.CreateIndex(
                name: "IX_EngineAccounts_PastDueMinor",
                table: "EngineAccounts",
                column: "PastDueMinor");

            migrationBuilder.CreateIndex(
                name: "IX_Customers_PastDueMinor",
                table: "Customers",
                column: "PastDueMinor");

            migrationBuilder.CreateIndex(
                name: "IX_AccountDues_AccountId_DueDay",
                table: "AccountDues",
                columns: new[] { "AccountId", "DueDay" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AccountDues_CustomerId",
                table: "AccountDues",
                column: "CustomerId");

            migrationBuilder.CreateIndex(
                name: "IX_AccountDues_DueDay",
                table: "AccountDues",
                column: "DueDay");

            migrationBuilder.CreateIndex(
                name: "IX_AccountDues_PastDueCounted_DueDay",
                table: "AccountDues",
                columns: new[] { "PastDueCounted", "DueDay" });

            migrationBuilder.CreateIndex(
                name: "IX_AccountPayments_AccountId_Sequence",
                table: "AccountPayments",
                columns: new[] { "AccountId", "Sequence" });

            migrationBuilder.CreateIndex(
                name: "IX_AccountPayments_Month_CustomerId",
                table: "AccountPayments",
                columns: new[] { "Month", "CustomerId" });

            migrationBuilder.CreateIndex(
                name: "IX_AccountPayments_Sequence",
                table: "AccountPayments",
                column: "Sequence",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_CollectionTasks_AssignedTo_DoneAt",
                table: "CollectionTasks",
                columns: new[] { "AssignedTo", "DoneAt" });

            migrationBuilder.CreateIndex(
                name: "IX_CollectionTasks_CaseId",
                table: "CollectionTasks",
                column: "CaseId");

            migrationBuilder.CreateIndex(
                name: "IX_CollectionTasks_TriggerKey",
                table: "CollectionTasks",
                column: "TriggerKey",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AccountDues");

            migrationBuilder.DropTable(
                name: "AccountPayments");

            migrationBuilder.DropTable(
                name: "CollectionTasks");

            migrationBuilder.DropTable(
                name: "PortfolioMonths");

            migrationBuilder.DropIndex(
                name: "IX_EngineAccounts_DelinquencyStage_PastDueMinor",
                table: "EngineAccounts");

            migrationBuilder.DropIndex(
                name: "IX_EngineAccounts_PastDueMinor",
                table: "EngineAccounts");

            migrationBuilder.DropIndex(
                name: "IX_Customers_PastDueMinor",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "BillingMode",
                table: "EngineAccounts");

            migrationBuilder.DropColumn(
                name: "DelinquencyStage",
                table: "EngineAccounts");

            migrationBuilder.DropColumn(
                name: "DepositMinor",
                table: "EngineAccounts");

            migrationBuilder.DropColumn(
                name: "FrozenManually",
                table: "EngineAccounts");

            migrationBuilder.DropColumn(
                name: "LastEventAtUnixMs",
                table: "EngineAccounts");

            migrationBuilder.DropColumn(
                name: "OldestDueDay",
                table: "EngineAccounts");

            migrationBuilder.DropColumn(
                name: "PastDueMinor",
                table: "EngineAccounts");

            migrationBuilder.DropColumn(
                name: "ReceivablesMinor",
                table: "EngineAccounts");

            migrationBuilder.DropColumn(
                name: "OldestDueDay",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "PastDueMinor",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "ReceivablesMinor",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "ClosedAt",
                table: "CollectionCases");

            migrationBuilder.DropColumn(
                name: "EngineSequence",
                table: "CollectionActions");

            migrationBuilder.DropColumn(
                name: "RefActionId",
                table: "CollectionActions");
        }
    }
}
