using ScottPlot;

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
        var series = results
            .Where(r => r.Pass == "fwd+bwd" && r.Causal == causal && value(r) is > 0)
            .GroupBy(r => $"{r.Variant} {r.Implementation}")
            .OrderBy(g => g.Key)
            .Select(g => new LogLogPlot.Series(g.Key, g.Key.EndsWith(" fused", StringComparison.Ordinal),
                [.. g.OrderBy(r => r.Length).Select(r => ((double)r.Length, value(r)!.Value))]));
        var path = Path.Combine(folder, file);
        LogLogPlot.Save(path, title, "sequence length T (log)", axis + " (log)", Alignment.UpperLeft, series);
        return path;
    }
}
