using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Desk.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CockpitIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Customers_PastDueMinor",
                table: "Customers");

            migrationBuilder.DropIndex(
                name: "IX_AccountDues_DueDay",
                table: "AccountDues");

            migrationBuilder.CreateIndex(
                name: "IX_Customers_Grade_Industry_Region_ReceivablesMinor_PastDueMin~",
                table: "Customers",
                columns: new[] { "Grade", "Industry", "Region", "ReceivablesMinor", "PastDueMinor", "LimitMinor", "PostedMinor", "HeldMinor" });

            migrationBuilder.CreateIndex(
                name: "IX_Customers_PastDueMinor_OwnerUserName",
                table: "Customers",
                columns: new[] { "PastDueMinor", "OwnerUserName" });

            migrationBuilder.CreateIndex(
                name: "IX_AccountDues_DueDay_CustomerId_AmountMinor_PaidMinor",
                table: "AccountDues",
                columns: new[] { "DueDay", "CustomerId", "AmountMinor", "PaidMinor" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Customers_Grade_Industry_Region_ReceivablesMinor_PastDueMin~",
                table: "Customers");

            migrationBuilder.DropIndex(
                name: "IX_Customers_PastDueMinor_OwnerUserName",
                table: "Customers");

            migrationBuilder.DropIndex(
                name: "IX_AccountDues_DueDay_CustomerId_AmountMinor_PaidMinor",
                table: "AccountDues");

            migrationBuilder.CreateIndex(
                name: "IX_Customers_PastDueMinor",
                table: "Customers",
                column: "PastDueMinor");

            migrationBuilder.CreateIndex(
                name: "IX_AccountDues_DueDay",
                table: "AccountDues",
                column: "DueDay");
        }
    }
}
