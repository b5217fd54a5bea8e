using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Desk.Web.Services;

/// <summary>Reads the first worksheet of an .xlsx into rows of cell texts (columns placed by their reference, e.g. C7).</summary>
public static class Spreadsheets
{
    public static List<string[]> ReadXlsx(Stream stream)
    {
        using var document = SpreadsheetDocument.Open(stream, false);
        WorkbookPart workbook = document.WorkbookPart ?? throw new InvalidDataException("file: not a workbook");
        Sheet sheet = workbook.Workbook.Sheets?.Elements<Sheet>().FirstOrDefault() ?? throw new InvalidDataException("file: the workbook has no sheet");
        var part = (WorksheetPart)workbook.GetPartById(sheet.Id!);
        var shared = workbook.SharedStringTablePart?.SharedStringTable.Elements<SharedStringItem>().Select(s => s.InnerText).ToArray() ?? [];
        var rows = new List<string[]>();
        foreach (Row row in part.Worksheet.Descendants<Row>())
        {
            var cells = new List<string>();
            foreach (Cell cell in row.Elements<Cell>())
            {
                int column = ColumnIndex(cell.CellReference?.Value) ?? cells.Count;
                while (cells.Count < column) cells.Add("");
                string text = cell.DataType?.Value == CellValues.SharedString && int.TryParse(cell.CellValue?.Text, out int s) && s < shared.Length ? shared[s]
                    : cell.DataType?.Value == CellValues.InlineString ? cell.InlineString?.InnerText ?? ""
                    : cell.CellValue?.Text ?? "";
                cells.Add(text);
            }
            int rowIndex = (int)(row.RowIndex?.Value ?? (uint)(rows.Count + 1)) - 1;
            while (rows.Count < rowIndex) rows.Add([]);
            rows.Add([.. cells]);
        }
        rows.RemoveAll(r => r.All(string.IsNullOrWhiteSpace));
        return rows;
    }

    private static int? ColumnIndex(string? reference)
    {
        if (string.IsNullOrEmpty(reference)) return null;
        int index = 0;
        foreach (char ch in reference)
        {
            if (!char.IsAsciiLetterUpper(ch)) break;
            index = index * 26 + (ch - 'A' + 1);
        }
        return index - 1;
    }

    /// <summary>Writes rows to a one-sheet .xlsx (inline strings), for exports and tests.</summary>
    public static byte[] WriteXlsx(IReadOnlyList<string[]> rows)
    {
        using var memory = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(memory, DocumentFormat.OpenXml.SpreadsheetDocumentType.Workbook))
        {
            var workbook = document.AddWorkbookPart();
            workbook.Workbook = new Workbook();
            var sheetPart = workbook.AddNewPart<WorksheetPart>();
            var data = new SheetData();
            foreach (string[] r in rows)
            {
                var row = new Row();
                foreach (string v in r) row.Append(new Cell { DataType = CellValues.InlineString, InlineString = new InlineString(new Text(v)) });
                data.Append(row);
            }
            sheetPart.Worksheet = new Worksheet(data);
            workbook.Workbook.AppendChild(new Sheets(new Sheet { Id = workbook.GetIdOfPart(sheetPart), SheetId = 1, Name = "Sheet1" }));
        }
        return memory.ToArray();
    }
}
