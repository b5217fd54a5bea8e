using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace Desk.Web.Pages.Customers;

[Authorize(Policy = nameof(Permission.CustomersWrite))]
public sealed class ImportModel(DeskDb db, CustomerService customers, IMemoryCache cache) : PageModel
{
    public ImportPreview? Preview { get; private set; }
    public ImportResult? Result { get; private set; }
    public string? Token { get; private set; }
    public string? Error { get; private set; }

    public void OnGet() { }

    /// <summary>Reads .csv (UTF-8) or .xlsx into rows; null with <paramref name="error"/> when the file cannot be read.</summary>
    public static List<string[]>? ReadTable(string fileName, Stream content, out string? error)
    {
        error = null;
        try
        {
            if (fileName.EndsWith(".xlsx", StringComparison.OrdinalIgnoreCase)) return Spreadsheets.ReadXlsx(content);
            if (fileName.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) return Csv.Parse(new StreamReader(content, System.Text.Encoding.UTF8).ReadToEnd());
            error = "file: .csv or .xlsx expected";
        }
        catch (Exception e) when (e is InvalidDataException or DocumentFormat.OpenXml.Packaging.OpenXmlPackageException or System.IO.FileFormatException)
        {
            error = "file: not a readable .xlsx (" + e.Message + ")";
        }
        return null;
    }

    public async Task OnPostPreviewAsync(IFormFile file)
    {
        using var stream = new MemoryStream();
        await file.CopyToAsync(stream);
        stream.Position = 0;
        var table = ReadTable(file.FileName, stream, out string? error);
        if (table is null) { Error = error; return; }
        var owners = (await db.Users.Select(u => u.UserName).ToListAsync()).ToHashSet();
        Preview = CustomerImport.Validate(table, owners);
        // The validated rows wait for confirmation in memory for 30 minutes, for this user only.
        Token = Guid.NewGuid().ToString("N");
        cache.Set(CacheKey(Token), Preview, TimeSpan.FromMinutes(30));
    }

    public async Task OnPostImportAsync(string token)
    {
        if (!cache.TryGetValue(CacheKey(token), out ImportPreview? preview) || preview is null) { Error = "the preview expired; upload the file again"; return; }
        cache.Remove(CacheKey(token));
        // Sales import customers they own.
        if (!User.Can(Permission.CustomersReadAll)) foreach (var r in preview.Rows) r.Customer.OwnerUserName = User.Name();
        Result = await customers.ImportAsync(preview.Rows, User.AuditName(), HttpContext.RequestAborted);
    }

    private string CacheKey(string token) => $"import:{User.Name()}:{token}";
}
