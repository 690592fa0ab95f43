using System.Globalization;
using System.Text;
using AftLab.Runtime;

namespace AftLab.Benchmarks;

/// <summary>A target of the performance notes, checked against the measurements of one run.</summary>
public sealed record TargetCheck(string Target, string Measured, bool? Met);

/// <summary>
/// Turns the results of one run into the files docs/benchmarks.md quotes: results.csv (every case, with
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
        var targets = cuda ? CudaTargets(results, exponents) : CpuTargets(results, exponents);
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

    // Issue 10's targets: T = 4096, causal, forward+backward, ratios in this run.
    static List<TargetCheck> CpuTargets(IReadOnlyList<BenchResult> results, List<Exponent> exponents)
    {
        var checks = new List<TargetCheck>();
        const long length = 4096;
        BenchResult? Fused(string variant, bool causal) => Find(results, variant, "fused", length, causal, "fwd+bwd");
        BenchResult? Unfused(string variant, bool causal) => Find(results, variant, "unfused", length, causal, "fwd+bwd");
        var sdpa = Find(results, "mha-8x64", "sdpa", length, true, "fwd+bwd");
        checks.Add(Speedup($"simple causal fwd+bwd ≥ 4× faster than autograd-unfused (T = {length})", Fused("simple", true), Unfused("simple", true), 4));
        checks.Add(Ratio($"simple causal fwd+bwd ≤ 1/20 of SDPA causal (T = {length})", Fused("simple", true), sdpa, 1.0 / 20));
        checks.Add(Speedup($"local-32 causal fwd+bwd ≥ 3× faster than autograd-unfused (T = {length})", Fused("local-32", true), Unfused("local-32", true), 3));
        checks.Add(Ratio($"local-32 causal fwd+bwd ≤ 1/8 of SDPA causal (T = {length})", Fused("local-32", true), sdpa, 1.0 / 8));
        checks.Add(Ratio($"local-256 causal fwd+bwd ≤ 1/4 of SDPA causal (T = {length})", Fused("local-256", true), sdpa, 1.0 / 4));
        var conv = results.Select(r => r.Variant).FirstOrDefault(v => v.StartsWith("conv", StringComparison.Ordinal)) ?? "conv";
        checks.Add(Speedup($"{conv} on a 64×64 grid fwd+bwd ≥ 2× faster than autograd-unfused", Fused(conv, false), Unfused(conv, false), 2));
        checks.Add(Ratio($"full causal fwd+bwd ≤ 0.75× SDPA causal (T = {length})", Fused("full", true), sdpa, 0.75));
        checks.AddRange(FlopFractions(results, 0.6));
        checks.AddRange(BandwidthFractions(results, 0.5));
        var attentionLayer = Find(results, "layer-mha-8x64", "sdpa", length, true, "fwd+bwd");
        foreach (var layer in new[] { "layer-simple", "layer-local-128" })
            checks.Add(Ratio($"{layer} causal with its projections fwd+bwd ≤ 0.45× a causal MHA layer (T = {length})", Fused(layer, true), attentionLayer, 0.45));

        foreach (var fused in results.Where(r => r.Implementation == "fused" && r.Pass == "fwd+bwd" && r.Length == length && r.Variant != "full" && !r.Variant.StartsWith("layer-", StringComparison.Ordinal) && r.MedianMs is not null)
                     .OrderBy(r => r.Variant).ThenBy(r => r.Causal))
            checks.Add(MemoryRatio($"{fused.Variant} {(fused.Causal ? "causal" : "non-causal")}: fused fwd+bwd peak ≤ 0.5× autograd-unfused's (T = {length})",
                fused, Unfused(fused.Variant, fused.Causal), 0.5));
        checks.AddRange(LinearMemory(exponents));
        return checks;
    }

    // Issue 9's targets: ratios against PyTorch eager and SDPA flash in the same job.
    static List<TargetCheck> CudaTargets(IReadOnlyList<BenchResult> results, List<Exponent> exponents)
    {
        var checks = new List<TargetCheck>();
        static bool LinearTime(string v) => v == "simple" || v.StartsWith("local-", StringComparison.Ordinal) || v.StartsWith("conv", StringComparison.Ordinal);
        foreach (var fused in results.Where(r => r.Implementation == "fused" && r.Pass == "fwd+bwd" && r.MedianMs is not null)
                     .OrderBy(r => r.Variant).ThenBy(r => r.Length).ThenBy(r => r.Causal))
        {
            var eager = Find(results, fused.Variant, "pytorch-eager", fused.Length, fused.Causal, fused.Pass);
            var mode = fused.Causal ? "causal" : "non-causal";
            if (LinearTime(fused.Variant))
            {
                checks.Add(Speedup($"{fused.Variant} T={fused.Length} {mode} fwd+bwd ≥ 10× faster than PyTorch eager", fused, eager, 10));
                // Grids are non-causal only; every other variant is compared in its causal form, as attention would be used.
                if (fused.Length >= 1024 && (fused.Causal || fused.Variant.StartsWith("conv", StringComparison.Ordinal)))
                {
                    var flash = Find(results, "mha-8x64", "pytorch-sdpa", fused.Length, true, "fwd+bwd");
                    checks.Add(Ratio($"{fused.Variant} T={fused.Length} {mode} fwd+bwd faster than SDPA flash causal", fused, flash, 1.0));
                }
            }
            else if (fused.Variant == "full")
                checks.Add(Ratio($"full T={fused.Length} {mode} fwd+bwd no slower than PyTorch eager", fused, eager, 1.0));
        }
        foreach (var fused in results.Where(r => r.Implementation == "fused" && r.Pass == "fwd+bwd" && LinearTime(r.Variant) && r.PeakMiB is not null)
                     .OrderBy(r => r.Variant).ThenBy(r => r.Length).ThenBy(r => r.Causal))
            checks.Add(MemoryRatio($"{fused.Variant} T={fused.Length} {(fused.Causal ? "causal" : "non-causal")}: peak below PyTorch eager's",
                fused, Find(results, fused.Variant, "pytorch-eager", fused.Length, fused.Causal, "fwd+bwd"), 1.0));
        checks.AddRange(FlopFractions(results.Where(r => r.Length >= 4096).ToList(), 0.5));
        var bf16 = results.Any(r => r.Dtype == "bfloat16");
        checks.AddRange(BandwidthFractions(results, bf16 ? 0.45 : 0.6));
        checks.AddRange(LinearMemory(exponents));
        return checks;
    }

    static IEnumerable<TargetCheck> LinearMemory(List<Exponent> exponents) =>
        exponents.Where(e => e.Implementation == "fused" && e.Pass == "fwd+bwd" && (e.Variant.StartsWith("local", StringComparison.Ordinal) || e.Variant is "simple" || e.Variant.StartsWith("conv", StringComparison.Ordinal)))
            .Select(e => new TargetCheck($"{e.Variant} {(e.Causal ? "causal" : "non-causal")}: memory grows linearly in T (exponent ≤ 1.1)",
                e.Memory is { } m ? m.ToString("0.00", Invariant) : "n/a", e.Memory is { } x ? x <= 1.1 : null));

    // AFT-simple's forward: its useful bytes (read Q, K, V, write Y) per second against a device copy's (read + write).
    static IEnumerable<TargetCheck> BandwidthFractions(IReadOnlyList<BenchResult> results, double target)
    {
        foreach (var simple in results.Where(r => r.Variant == "simple" && r.Implementation == "fused" && r.Pass == "fwd" && r.MedianMs is not null && r.Case is not null)
                     .OrderBy(r => r.Length).ThenBy(r => r.Causal))
        {
            var copy = Find(results, "copy", "roof", simple.Length, false, "fwd");
            if (copy?.Case is null) continue;
            var fraction = simple.Case!.ForwardBytes / simple.MedianMs!.Value / (2 * copy.Case.ForwardBytes / copy.MedianMs!.Value);
            yield return new TargetCheck($"simple T={simple.Length} {(simple.Causal ? "causal" : "non-causal")} fwd: ≥ {target:P0} of copy bandwidth",
                $"{fraction:P0} ({simple.Case.ForwardBytes / simple.MedianMs.Value / 1e6:0} GB/s vs {2 * copy.Case.ForwardBytes / copy.MedianMs.Value / 1e6:0})", fraction >= target);
        }
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
        text.AppendLine("Times are medians (ms) with the interquartile range: BenchmarkDotNet on a CPU, CUDA events on a GPU (as the PyTorch peers are timed). " +
            "Memory is the peak above the inputs (MiB): the process's native heap on a CPU, the cudaMallocAsync pool's high-water mark on a GPU. Mixers and layers at d = 512.");
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
        HostTimes(text, results);
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
            // The PyTorch script names the SDPA backend it ran (flash, efficient, math) in the status.
            var backends = string.Join("/", group.Select(r => r.Status).Where(x => x.StartsWith("ok (", StringComparison.Ordinal)).Distinct().Select(x => x[4..^1]));
            var implementation = backends.Length > 0 ? $"{group.Key.Implementation} ({backends})" : group.Key.Implementation;
            text.AppendLine($"| {group.Key.Variant} | {implementation} | " + string.Join(" | ", cells) + " |");
        }
    }

    // Where the CPU's time to queue a run comes near the GPU time, the launches, not the kernels, set the time.
    static void HostTimes(StringBuilder text, IReadOnlyList<BenchResult> results)
    {
        var rows = results.Where(r => r.HostMs is not null && r.MedianMs is not null && r.Implementation is "fused" or "pytorch-eager" or "pytorch-sdpa").ToList();
        if (rows.Count == 0) return;
        text.AppendLine();
        text.AppendLine("## Host time: the CPU's time to queue one run (ms), against its GPU time");
        text.AppendLine();
        text.AppendLine("| variant | implementation | mode | pass | T | GPU | host | host / GPU |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in rows.OrderBy(r => r.Variant).ThenBy(r => r.Implementation).ThenBy(r => r.Pass).ThenBy(r => !r.Causal).ThenBy(r => r.Length))
            text.AppendLine($"| {r.Variant} | {r.Implementation} | {(r.Causal ? "causal" : "non-causal")} | {r.Pass} | {r.Length} | " +
                $"{r.MedianMs:0.###} | {r.HostMs:0.###} | {r.HostMs / r.MedianMs:0.00} |");
    }

    static string F(double? value, string format) => value?.ToString(format, Invariant) ?? "n/a";

    /// <summary>Write, then rename: a report is either the old one or the new one, never half of one.</summary>
}
