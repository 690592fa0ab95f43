using System.Globalization;
using AftLab.Runtime;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace AftLab.Benchmarks;

/// <summary>One line per series on log-log axes, the highlighted series (the ones a benchmark is about) bold, the peers dashed.</summary>
public static class LogLogPlot
{
    /// <summary>A series: its legend text, whether it is highlighted, and its points (both coordinates positive).</summary>
    public sealed record Series(string Name, bool Highlighted, IReadOnlyList<(double X, double Y)> Points);

    /// <summary>Draws <paramref name="series"/> and writes the PNG to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, string title, string xLabel, string yLabel, Alignment legend, IEnumerable<Series> series)
    {
        var plot = new Plot();
        foreach (var s in series)
        {
            var line = plot.Add.Scatter(s.Points.Select(p => Math.Log10(p.X)).ToArray(), s.Points.Select(p => Math.Log10(p.Y)).ToArray());
            line.LegendText = s.Name;
            line.MarkerSize = 6;
            line.LineWidth = s.Highlighted ? 2.5f : 1.2f;
            if (!s.Highlighted) line.LinePattern = LinePattern.Dashed;
        }
        plot.Axes.Bottom.TickGenerator = LogTicks();
        plot.Axes.Left.TickGenerator = LogTicks();
        plot.Axes.Bottom.Label.Text = xLabel;
        plot.Axes.Left.Label.Text = yLabel;
        plot.Title(title);
        plot.ShowLegend(legend);
        AtomicFile.Write(path, temporary => plot.SavePng(temporary, 1200, 800));
    }

    static NumericAutomatic LogTicks() => new()
    {
        LabelFormatter = exponent => Math.Pow(10, exponent).ToString("G4", CultureInfo.InvariantCulture),
        MinorTickGenerator = new LogMinorTickGenerator(),
        IntegerTicksOnly = true,
    };
}
