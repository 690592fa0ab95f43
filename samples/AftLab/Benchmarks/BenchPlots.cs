using AftLab.Runtime;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace AftLab.Benchmarks;

/// <summary>Log-log plots of time and peak memory against T (forward+backward), one line per variant and implementation.</summary>
public static class BenchPlots
{
    public static IReadOnlyList<string> Write(IReadOnlyList<BenchResult> results, string folder, string device)
    {
        var written = new List<string>();
        foreach (var causal in new[] { true, false })
        {
            var mode = causal ? "causal" : "non-causal";
            written.Add(Save(results, folder, $"time-{mode}.png", $"Forward+backward time, {mode} ({device})", "time (ms)", r => r.MedianMs, causal));
            if (results.Any(r => r.PeakMiB is > 0))
                written.Add(Save(results, folder, $"memory-{mode}.png", $"Forward+backward peak memory, {mode} ({device})", "peak memory (MiB)", r => r.PeakMiB, causal));
        }
        return written;
    }

    static string Save(IReadOnlyList<BenchResult> results, string folder, string file, string title, string axis, Func<BenchResult, double?> value, bool causal)
    {
        var plot = new Plot();
        var series = results
            .Where(r => r.Pass == "fwd+bwd" && r.Causal == causal && value(r) is > 0)
            .GroupBy(r => $"{r.Variant} {r.Implementation}")
            .OrderBy(g => g.Key);
        foreach (var group in series)
        {
            var rows = group.OrderBy(r => r.Length).ToList();
            var line = plot.Add.Scatter(rows.Select(r => Math.Log10(r.Length)).ToArray(), rows.Select(r => Math.Log10(value(r)!.Value)).ToArray());
            line.LegendText = group.Key;
            line.MarkerSize = 6;
            var fused = group.Key.EndsWith(" fused", StringComparison.Ordinal);
            line.LineWidth = fused ? 2.5f : 1.2f;
            if (!fused) line.LinePattern = LinePattern.Dashed;
        }
        plot.Axes.Bottom.TickGenerator = LogTicks();
        plot.Axes.Left.TickGenerator = LogTicks();
        plot.Axes.Bottom.Label.Text = "sequence length T (log)";
        plot.Axes.Left.Label.Text = axis + " (log)";
        plot.Title(title);
        plot.ShowLegend(Alignment.UpperLeft);
        var path = Path.Combine(folder, file);
        AtomicFile.Write(path, temporary => plot.SavePng(temporary, 1200, 800));
        return path;
    }

    static NumericAutomatic LogTicks() => new()
    {
        LabelFormatter = exponent => Math.Pow(10, exponent).ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
        MinorTickGenerator = new LogMinorTickGenerator(),
        IntegerTicksOnly = true,
    };
}
