using System.Globalization;
using System.Net;
using System.Text;

namespace Engine.LoadTest.Reports;

/// <summary>
/// A small line-chart builder that writes inline SVG: title, a plot frame, gridlines with tick labels, axis labels,
/// an optional right-hand axis, shaded bands, lines and a legend. No scripts, fonts or images from outside: the
/// HTML report must open on an offline machine.
/// </summary>
public sealed class SvgChart(string id, string title, string xLabel, string yLabel, string? y2Label = null)
{
    public const int Width = 900;
    public const int Height = 420;
    private const double Left = 78, Right = 78, Top = 56, Bottom = 64;
    private const double PlotWidth = Width - Left - Right;
    private const double PlotHeight = Height - Top - Bottom;

    private readonly StringBuilder _grid = new();
    private readonly StringBuilder _series = new();
    private readonly List<(string Name, string Color, string? Dash)> _legend = [];
    private double _xMin, _xMax = 1, _yMin, _yMax = 1, _y2Min, _y2Max = 1;

    public void XRange(double min, double max) => (_xMin, _xMax) = (min, max > min ? max : min + 1);
    public void YRange(double min, double max) => (_yMin, _yMax) = (min, max > min ? max : min + 1);
    public void Y2Range(double min, double max) => (_y2Min, _y2Max) = (min, max > min ? max : min + 1);

    public double X(double value) => Left + (value - _xMin) / (_xMax - _xMin) * PlotWidth;
    public double Y(double value) => Top + PlotHeight - (value - _yMin) / (_yMax - _yMin) * PlotHeight;
    private double Y2(double value) => Top + PlotHeight - (value - _y2Min) / (_y2Max - _y2Min) * PlotHeight;

    /// <summary>Vertical gridlines with labels under the plot.</summary>
    public void XTicks(IEnumerable<(double Value, string Label)> ticks)
    {
        foreach ((double value, string label) in ticks)
        {
            double x = X(value);
            _grid.Append(F($"<line class=\"grid\" x1=\"{x:F1}\" y1=\"{Top:F1}\" x2=\"{x:F1}\" y2=\"{Top + PlotHeight:F1}\"/>"));
            _grid.Append(F($"<text class=\"tick\" x=\"{x:F1}\" y=\"{Top + PlotHeight + 18:F1}\" text-anchor=\"middle\">{Escape(label)}</text>"));
        }
    }

    /// <summary>Horizontal gridlines with labels left of the plot.</summary>
    public void YTicks(IEnumerable<(double Value, string Label)> ticks)
    {
        foreach ((double value, string label) in ticks)
        {
            double y = Y(value);
            _grid.Append(F($"<line class=\"grid\" x1=\"{Left:F1}\" y1=\"{y:F1}\" x2=\"{Left + PlotWidth:F1}\" y2=\"{y:F1}\"/>"));
            _grid.Append(F($"<text class=\"tick\" x=\"{Left - 8:F1}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{Escape(label)}</text>"));
        }
    }

    /// <summary>Labels of the right-hand axis (no gridlines: the left axis has them).</summary>
    public void Y2Ticks(IEnumerable<(double Value, string Label)> ticks)
    {
        foreach ((double value, string label) in ticks)
        {
            double y = Y2(value);
            _grid.Append(F($"<line class=\"axis\" x1=\"{Left + PlotWidth:F1}\" y1=\"{y:F1}\" x2=\"{Left + PlotWidth + 5:F1}\" y2=\"{y:F1}\"/>"));
            _grid.Append(F($"<text class=\"tick\" x=\"{Left + PlotWidth + 9:F1}\" y=\"{y + 4:F1}\" text-anchor=\"start\">{Escape(label)}</text>"));
        }
    }

    /// <summary>A shaded vertical band, e.g. the warm-up.</summary>
    public void Band(double xFrom, double xTo, string label)
    {
        double x0 = X(xFrom), x1 = X(xTo);
        _grid.Append(F($"<rect class=\"band\" x=\"{x0:F1}\" y=\"{Top:F1}\" width=\"{Math.Max(0, x1 - x0):F1}\" height=\"{PlotHeight:F1}\"/>"));
        _grid.Append(F($"<text class=\"band-label\" x=\"{(x0 + x1) / 2:F1}\" y=\"{Top + 14:F1}\" text-anchor=\"middle\">{Escape(label)}</text>"));
    }

    /// <summary>A horizontal reference line across the plot (left axis), labelled at its right end.</summary>
    public void Reference(double y, string color, string label)
    {
        double py = Y(y);
        _series.Append(F($"<line x1=\"{Left:F1}\" y1=\"{py:F1}\" x2=\"{Left + PlotWidth:F1}\" y2=\"{py:F1}\" stroke=\"{color}\" stroke-width=\"1.5\" stroke-dasharray=\"2 4\"/>"));
        _series.Append(F($"<text class=\"tick\" x=\"{Left + PlotWidth - 4:F1}\" y=\"{py - 5:F1}\" text-anchor=\"end\" fill=\"{color}\">{Escape(label)}</text>"));
    }

    /// <summary>A polyline through the points, on the left axis or the right one.</summary>
    public void Line(string name, IEnumerable<(double X, double Y)> points, string color, string? dash = null, bool rightAxis = false, bool markers = false)
    {
        var coordinates = new StringBuilder();
        var dots = new StringBuilder();
        foreach ((double x, double y) in points)
        {
            double px = X(x), py = rightAxis ? Y2(y) : Y(y);
            coordinates.Append(F($"{px:F1},{py:F1} "));
            if (markers) dots.Append(F($"<circle cx=\"{px:F1}\" cy=\"{py:F1}\" r=\"2.6\" fill=\"{color}\"/>"));
        }
        string dashAttribute = dash is null ? "" : $" stroke-dasharray=\"{dash}\"";
        _series.Append(F($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-linejoin=\"round\"{dashAttribute} points=\"{coordinates.ToString().TrimEnd()}\"><title>{Escape(name)}</title></polyline>"));
        _series.Append(dots);
        _legend.Add((name, color, dash));
    }

    /// <summary>A labelled point (e.g. "p99 4.1 ms").</summary>
    public void Annotate(double x, double y, string color, string label)
    {
        double px = X(x), py = Y(y);
        _series.Append(F($"<circle cx=\"{px:F1}\" cy=\"{py:F1}\" r=\"4\" fill=\"white\" stroke=\"{color}\" stroke-width=\"2\"/>"));
        _series.Append(F($"<text class=\"annotation\" x=\"{px - 6:F1}\" y=\"{py - 9:F1}\" text-anchor=\"end\">{Escape(label)}</text>"));
    }

    public string Render()
    {
        var svg = new StringBuilder();
        svg.Append(F($"<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{Escape(title)}\">"));
        svg.Append(F($"<title>{Escape(title)}</title>"));
        svg.Append(F($"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>"));
        svg.Append(F($"<text class=\"chart-title\" x=\"{Left:F1}\" y=\"26\">{Escape(title)}</text>"));
        svg.Append(_grid);
        svg.Append(F($"<rect class=\"frame\" x=\"{Left:F1}\" y=\"{Top:F1}\" width=\"{PlotWidth:F1}\" height=\"{PlotHeight:F1}\"/>"));
        svg.Append(_series);
        svg.Append(F($"<text class=\"axis-label\" x=\"{Left + PlotWidth / 2:F1}\" y=\"{Height - 18:F1}\" text-anchor=\"middle\">{Escape(xLabel)}</text>"));
        svg.Append(F($"<text class=\"axis-label\" transform=\"translate(20 {Top + PlotHeight / 2:F1}) rotate(-90)\" text-anchor=\"middle\">{Escape(yLabel)}</text>"));
        if (y2Label is not null)
            svg.Append(F($"<text class=\"axis-label\" transform=\"translate({Width - 16} {Top + PlotHeight / 2:F1}) rotate(90)\" text-anchor=\"middle\">{Escape(y2Label)}</text>"));
        AppendLegend(svg);
        svg.Append("</svg>");
        return svg.ToString();
    }

    private void AppendLegend(StringBuilder svg)
    {
        double x = Left + PlotWidth;
        for (int i = _legend.Count - 1; i >= 0; i--)
        {
            (string name, string color, string? dash) = _legend[i];
            double textWidth = name.Length * 6.6;
            x -= textWidth + 34;
            string dashAttribute = dash is null ? "" : $" stroke-dasharray=\"{dash}\"";
            svg.Append(F($"<line x1=\"{x:F1}\" y1=\"40\" x2=\"{x + 22:F1}\" y2=\"40\" stroke=\"{color}\" stroke-width=\"3\"{dashAttribute}/>"));
            svg.Append(F($"<text class=\"legend\" x=\"{x + 27:F1}\" y=\"44\">{Escape(name)}</text>"));
        }
    }

    /// <summary>Round tick values (1, 2, 5 × 10^k steps) covering 0..max with about <paramref name="count"/> ticks.</summary>
    public static IReadOnlyList<double> NiceTicks(double max, int count = 6)
    {
        if (!(max > 0) || !double.IsFinite(max)) return [0, 1];
        double rough = max / count;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double step = (rough / magnitude) switch
        {
            <= 1 => magnitude,
            <= 2 => 2 * magnitude,
            <= 5 => 5 * magnitude,
            _ => 10 * magnitude,
        };
        var ticks = new List<double>();
        for (int i = 0; i <= count + 2; i++)
        {
            double value = i * step;
            ticks.Add(value);
            if (value >= max) break;
        }
        return ticks;
    }

    /// <summary>A short label for a tick: 12,000 → "12k", 1,500,000 → "1.5M", 0.25 → "0.25".</summary>
    public static string Short(double value) => Math.Abs(value) switch
    {
        >= 1_000_000 => (value / 1_000_000).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 10_000 => (value / 1_000).ToString("0.##", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0.###", CultureInfo.InvariantCulture),
    };

    private static string Escape(string text) => WebUtility.HtmlEncode(text);

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
