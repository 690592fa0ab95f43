using System.Globalization;
using System.Text;
using AftLab.Runtime;

namespace AftLab.Benchmarks;

/// <summary>A target of the performance notes, checked against the measurements of one run.</summary>
public sealed record TargetCheck(string Target, string Measured, bool? Met);

/// <summary>
/// Turns the results of one run into the files the README quotes: results.csv (every case, with
/// median, quartiles and peak memory), exponents.csv (fitted growth of time and memory in T),
/// summary.md (tables, ratios, FLOP and bandwidth fractions, and each target met or missed).
/// </summary>
public static class BenchReport
{
    static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static IReadOnlyList<TargetCheck> Write(IReadOnlyList<BenchResult> results, string folder, string machine, string command, bool cuda)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "results.csv"), BenchResult.Header + "\n" + string.Join("\n", results.Select(r => r.ToCsv())) + "\n");
        var exponents = Exponents(results);
        AtomicFile.WriteAllText(Path.Combine(folder, "exponents.csv"),
            "variant,implementation,causal,pass,time_exponent,memory_exponent,lengths\n" +
            string.Join("\n", exponents.Select(e => string.Join(",", e.Variant, e.Implementation, e.Causal ? "true" : "false", e.Pass,
                F(e.Time, "0.00"), F(e.Memory, "0.00"), string.Join(" ", e.Lengths)))) + "\n");
        var targets = cuda ? CudaTargets(results) : CpuTargets(results, exponents);
        AtomicFile.WriteAllText(Path.Combine(folder, "summary.md"), Summary(results, exponents, targets, machine, command));
        return targets;
    }

    /// <summary>Per-sequence growth exponents (time/B and memory/B against T, least squares in log-log).</summary>
    public sealed record Exponent(string Variant, string Implementation, bool Causal, string Pass, double? Time, double? Memory, long[] Lengths);

    public static List<Exponent> Exponents(IEnumerable<BenchResult> results) =>
        results.Where(r => r.MedianMs is not null && r.Implementation is not "roof")
            .GroupBy(r => (r.Variant, r.Implementation, r.Causal, r.Pass))
            .Where(g => g.Count() >= 2)
            .Select(g =>
            {
                var rows = g.OrderBy(r => r.Length).ToList();
                var time = Slope(rows.Select(r => (r.Length, r.MedianMs!.Value / r.Batch)));
                var memory = rows.All(r => r.PeakMiB is > 0) ? Slope(rows.Select(r => (r.Length, r.PeakMiB!.Value / r.Batch))) : null;
                return new Exponent(g.Key.Variant, g.Key.Implementation, g.Key.Causal, g.Key.Pass, time, memory, rows.Select(r => r.Length).ToArray());
            })
            .OrderBy(e => e.Variant).ThenBy(e => e.Implementation).ThenBy(e => e.Causal).ThenBy(e => e.Pass)
            .ToList();

    static double? Slope(IEnumerable<(long X, double Y)> points)
    {
        var p = points.Select(q => (X: Math.Log(q.X), Y: Math.Log(q.Y))).ToList();
        if (p.Count < 2) return null;
        var (mx, my) = (p.Average(q => q.X), p.Average(q => q.Y));
        var sxx = p.Sum(q => (q.X - mx) * (q.X - mx));
        return sxx == 0 ? null : p.Sum(q => (q.X - mx) * (q.Y - my)) / sxx;
    }

    static BenchResult? Find(IEnumerable<BenchResult> results, string variant, string implementation, long length, bool causal, string pass) =>
        results.FirstOrDefault(r => r.Variant == variant && r.Implementation == implementation && r.Length == length && r.Causal == causal && r.Pass == pass && r.MedianMs is not null);

    static List<TargetCheck> CpuTargets(IReadOnlyList<BenchResult> results, List<Exponent> exponents)
    {
        var checks = new List<TargetCheck>();
        const long length = 4096;
        var sdpa = Find(results, "mha-8x64", "sdpa", length, true, "fwd+bwd");
        foreach (var variant in results.Select(r => r.Variant).Distinct().Where(v => v.StartsWith("local-", StringComparison.Ordinal) || v == "simple").Order())
            checks.Add(Ratio($"{variant} causal fwd+bwd ≤ ¼ of SDPA causal (T = {length})", Find(results, variant, "fused", length, true, "fwd+bwd"), sdpa, 0.25));
        checks.Add(Ratio($"full causal fwd+bwd no slower than SDPA causal (T = {length})", Find(results, "full", "fused", length, true, "fwd+bwd"), sdpa, 1.0));
        checks.Add(Ratio($"full fwd+bwd no slower than SDPA (T = {length})", Find(results, "full", "fused", length, false, "fwd+bwd"),
            Find(results, "mha-8x64", "sdpa", length, false, "fwd+bwd"), 1.0));

        foreach (var group in results.Where(r => r.Implementation == "fused" && r.Pass == "fwd+bwd" && r.MedianMs is not null)
                     .GroupBy(r => (r.Variant, r.Causal)).OrderBy(g => g.Key.Variant).ThenBy(g => g.Key.Causal))
        {
            var fused = group.Where(r => r.Length == length).FirstOrDefault() ?? group.OrderByDescending(r => r.Length).First();
            var unfused = Find(results, fused.Variant, "unfused", fused.Length, fused.Causal, "fwd+bwd");
            var mode = fused.Causal ? "causal" : "non-causal";
            checks.Add(Speedup($"{fused.Variant} {mode}: fused fwd+bwd ≥ 1.3× faster than autograd (T = {fused.Length})", fused, unfused, 1.3));
            checks.Add(MemoryRatio($"{fused.Variant} {mode}: fused fwd+bwd peak ≤ 0.7× autograd's (T = {fused.Length})", fused, unfused, 0.7));
        }

        foreach (var e in exponents.Where(e => e.Implementation == "fused" && e.Pass == "fwd+bwd" && (e.Variant.StartsWith("local", StringComparison.Ordinal) || e.Variant is "simple" || e.Variant.StartsWith("conv", StringComparison.Ordinal))))
            checks.Add(new TargetCheck($"{e.Variant} {(e.Causal ? "causal" : "non-causal")}: memory grows linearly in T (exponent ≤ 1.1)",
                e.Memory is { } m ? m.ToString("0.00", Invariant) : "n/a", e.Memory is { } x ? x <= 1.1 : null));

        checks.AddRange(FlopFractions(results, 0.6));
        return checks;
    }

    static List<TargetCheck> CudaTargets(IReadOnlyList<BenchResult> results)
    {
        var checks = new List<TargetCheck>();
        foreach (var fused in results.Where(r => r.Implementation == "fused" && r.MedianMs is not null).OrderBy(r => r.Variant).ThenBy(r => r.Length).ThenBy(r => r.Causal).ThenBy(r => r.Pass))
        {
            var eager = Find(results, fused.Variant, "pytorch-eager", fused.Length, fused.Causal, fused.Pass);
            if (eager is not null)
                checks.Add(Ratio($"{fused.Variant} T={fused.Length} {(fused.Causal ? "causal" : "non-causal")} {fused.Pass}: within 1.1× of PyTorch eager", fused, eager, 1.1));
        }
        foreach (var length in results.Select(r => r.Length).Where(t => t >= 16384).Distinct())
        {
            var flash = Find(results, "mha-8x64", "pytorch-sdpa", length, true, "fwd+bwd") ?? Find(results, "mha-8x64", "sdpa", length, true, "fwd+bwd");
            foreach (var variant in results.Select(r => r.Variant).Distinct().Where(v => v.StartsWith("local-", StringComparison.Ordinal) || v == "simple").Order())
                checks.Add(Ratio($"{variant} causal fwd+bwd faster than SDPA flash causal (T = {length})", Find(results, variant, "fused", length, true, "fwd+bwd"), flash, 1.0));
        }
        checks.AddRange(FlopFractions(results, 0.5));
        foreach (var simple in results.Where(r => r.Variant == "simple" && r.Implementation == "fused" && r.Pass == "fwd" && r.MedianMs is not null && r.Case is not null))
        {
            var copy = Find(results, "copy", "roof", simple.Length, false, "fwd");
            if (copy?.Case is null) continue;
            var fraction = simple.Case!.ForwardBytes / simple.MedianMs!.Value / (2 * copy.Case.ForwardBytes / copy.MedianMs!.Value);
            checks.Add(new TargetCheck($"simple T={simple.Length} {(simple.Causal ? "causal" : "non-causal")} fwd: ≥ 30% of copy bandwidth",
                fraction.ToString("P0", Invariant), fraction >= 0.3));
        }
        return checks;
    }

    // AFT-full's forward FLOP/s (4·B·T²·d, halved when causal) against a plain matmul of the full work, same T.
    static IEnumerable<TargetCheck> FlopFractions(IReadOnlyList<BenchResult> results, double target)
    {
        foreach (var full in results.Where(r => r.Variant == "full" && r.Implementation == "fused" && r.Pass == "fwd" && r.MedianMs is not null && r.Case is not null).OrderBy(r => r.Length).ThenBy(r => r.Causal))
        {
            var roof = Find(results, "matmul", "roof", full.Length, false, "fwd");
            if (roof?.Case is null) continue;
            var fraction = full.Case!.ForwardFlops / full.MedianMs!.Value / (roof.Case.ForwardFlops / roof.MedianMs!.Value);
            yield return new TargetCheck($"full T={full.Length} {(full.Causal ? "causal" : "non-causal")} fwd: ≥ {target:P0} of matmul FLOP/s",
                $"{fraction:P0} ({full.Case.ForwardFlops / full.MedianMs.Value / 1e6:0} GFLOP/s vs {roof.Case.ForwardFlops / roof.MedianMs.Value / 1e6:0})", fraction >= target);
        }
    }

    static TargetCheck Ratio(string target, BenchResult? ours, BenchResult? peer, double limit)
    {
        if (ours?.MedianMs is not { } a || peer?.MedianMs is not { } b)
            return new TargetCheck(target, "not measured", null);
        var ratio = a / b;
        return new TargetCheck(target, $"{ratio:0.00}× ({a:0.#} ms vs {b:0.#} ms)", ratio <= limit);
    }

    static TargetCheck Speedup(string target, BenchResult? ours, BenchResult? peer, double limit)
    {
        if (ours?.MedianMs is not { } a || peer?.MedianMs is not { } b)
            return new TargetCheck(target, "not measured", null);
        return new TargetCheck(target, $"{b / a:0.00}× ({a:0.#} ms vs {b:0.#} ms)", b / a >= limit);
    }

    static TargetCheck MemoryRatio(string target, BenchResult? ours, BenchResult? peer, double limit)
    {
        if (ours?.PeakMiB is not { } a || peer?.PeakMiB is not { } b || b <= 0)
            return new TargetCheck(target, "not measured", null);
        return new TargetCheck(target, $"{a / b:0.00}× ({a:0} MiB vs {b:0} MiB)", a / b <= limit);
    }

    static string Summary(IReadOnlyList<BenchResult> results, List<Exponent> exponents, IReadOnlyList<TargetCheck> targets, string machine, string command)
    {
        var text = new StringBuilder();
        text.AppendLine($"# Benchmark, {DateTime.UtcNow:yyyy-MM-dd}");
        text.AppendLine();
        text.AppendLine($"Machine: {machine}  ");
        text.AppendLine($"Command: `{command}`  ");
        text.AppendLine("Times are BenchmarkDotNet medians (ms) with the interquartile range; memory is the peak above the inputs (MiB). Mixers only, d = 512.");
        text.AppendLine();
        text.AppendLine("## Targets");
        text.AppendLine();
        text.AppendLine("| target | measured | met |");
        text.AppendLine("|---|---|---|");
        foreach (var t in targets)
            text.AppendLine($"| {t.Target} | {t.Measured} | {(t.Met is null ? "n/a" : t.Met.Value ? "yes" : "**no**")} |");
        foreach (var pass in new[] { "fwd+bwd", "fwd" })
            foreach (var causal in new[] { true, false })
                Table(text, results, pass, causal);
        text.AppendLine();
        text.AppendLine("## Growth exponents in T (per sequence)");
        text.AppendLine();
        text.AppendLine("| variant | implementation | mode | pass | time | memory |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var e in exponents)
            text.AppendLine($"| {e.Variant} | {e.Implementation} | {(e.Causal ? "causal" : "non-causal")} | {e.Pass} | {F(e.Time, "0.00")} | {F(e.Memory, "0.00")} |");
        var skipped = results.Where(r => r.Status.StartsWith("skipped", StringComparison.Ordinal) || r.Status.StartsWith("failed", StringComparison.Ordinal)).ToList();
        if (skipped.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("## Not measured");
            text.AppendLine();
            foreach (var r in skipped.GroupBy(r => (r.Variant, r.Implementation, r.Causal, r.Pass)))
                text.AppendLine($"- {r.Key.Variant} {r.Key.Implementation}, {(r.Key.Causal ? "causal" : "non-causal")} {r.Key.Pass}: " +
                    string.Join("; ", r.GroupBy(x => x.Status).Select(g => $"T ∈ {{{string.Join(", ", g.Select(x => x.Length).Distinct())}}} {g.Key}")));
        }
        return text.ToString();
    }

    static void Table(StringBuilder text, IReadOnlyList<BenchResult> results, string pass, bool causal)
    {
        var rows = results.Where(r => r.Pass == pass && r.Causal == causal && r.Implementation != "roof").ToList();
        if (rows.Count == 0) return;
        var lengths = rows.Select(r => r.Length).Distinct().Order().ToList();
        text.AppendLine();
        text.AppendLine($"## {pass}, {(causal ? "causal" : "non-causal")}: time ms (peak MiB)");
        text.AppendLine();
        text.AppendLine("| variant | implementation | " + string.Join(" | ", lengths.Select(t => $"T={t}")) + " |");
        text.AppendLine("|---|---|" + string.Concat(lengths.Select(_ => "---|")));
        foreach (var group in rows.GroupBy(r => (r.Variant, r.Implementation)).OrderBy(g => g.Key.Variant).ThenBy(g => g.Key.Implementation))
        {
            var cells = lengths.Select(t => group.FirstOrDefault(r => r.Length == t) switch
            {
                { MedianMs: { } m } r => $"{m:0.##} [{r.Q1Ms:0.##}–{r.Q3Ms:0.##}]" + (r.PeakMiB is { } p ? $" ({p:0})" : ""),
                { } r => r.Status.StartsWith("skipped", StringComparison.Ordinal) ? "skipped" : "failed",
                null => "",
            });
            text.AppendLine($"| {group.Key.Variant} | {group.Key.Implementation} | " + string.Join(" | ", cells) + " |");
        }
    }

    static string F(double? value, string format) => value?.ToString(format, Invariant) ?? "n/a";

    /// <summary>Write, then rename: a report is either the old one or the new one, never half of one.</summary>
}
