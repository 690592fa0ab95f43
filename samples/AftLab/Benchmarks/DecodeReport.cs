using System.Globalization;
using System.Text;
using AftLab.Runtime;
using ScottPlot;

namespace AftLab.Benchmarks;

/// <summary>The decode benchmark's outputs: decode.csv, decode-summary.md (targets and a table) and one plot per batch size.</summary>
public static class DecodeReport
{
    /// <summary>A target of the decoding issue, what was measured, and whether it is met (null: not measured in this run).</summary>
    public sealed record Target(string Name, string Measured, bool? Met);

    public static IReadOnlyList<Target> Write(IReadOnlyList<DecodeResult> results, string folder, string machine, string command)
    {
        AtomicFile.WriteAllText(Path.Combine(folder, "decode.csv"),
            string.Join("\n", [DecodeResult.Header, .. results.Select(r => r.ToCsv())]) + "\n");
        var targets = Targets(results);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Decode benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine}  ");
        text.AppendLine(CultureInfo.InvariantCulture, $"Command: `{command}`");
        text.AppendLine();
        text.AppendLine("| target | measured | met |");
        text.AppendLine("|---|---|---|");
        foreach (var t in targets)
            text.AppendLine(CultureInfo.InvariantCulture, $"| {t.Name} | {t.Measured} | {(t.Met is null ? "n/a" : t.Met.Value ? "yes" : "no")} |");
        text.AppendLine();
        text.AppendLine(Table(results));
        text.AppendLine("Step times are the thread's CPU time on a CPU (the recompute peer: the process's) and wall time on CUDA; " +
            "wall ms/step is the fastest of the last 32 steps.");
        AtomicFile.WriteAllText(Path.Combine(folder, "decode-summary.md"), text.ToString());
        foreach (var batch in results.Select(r => r.Batch).Distinct())
            Plot(results.Where(r => r.Batch == batch).ToList(), Path.Combine(folder, $"decode-batch-{batch}.png"), batch);
        return targets;
    }

    /// <summary>The results as a markdown table: tokens/s per model, method, context and batch, and state memory per sequence.</summary>
    public static string Table(IReadOnlyList<DecodeResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| model | method | context | batch | ms/step at 16 | ms/step at context | tokens/s | wall ms/step | state per sequence |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results.OrderBy(r => r.Context).ThenBy(r => r.Batch).ThenBy(r => r.Model).ThenBy(r => r.Method))
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Model} | {r.Method} | {r.Context} | {r.Batch} | {F(r.MsPerStepAt16, "F3")} | {F(r.MsPerStepAtContext, "F3")} | " +
                $"{(r.TokensPerSecond is { } tps ? tps.ToString("N0", CultureInfo.InvariantCulture) : r.Status)} | {F(r.WallMsPerStepAtContext, "F3")} | " +
                $"{Bytes(r.StateBytesPerSequence)} |");
        return text.ToString();
    }

    static List<Target> Targets(IReadOnlyList<DecodeResult> results)
    {
        DecodeResult? Find(string model, string method, long context, long batch) =>
            results.FirstOrDefault(r => r.Model == model && r.Method == method && r.Context == context && r.Batch == batch && r.MsPerStepAtContext is not null);
        var targets = new List<Target>();
        foreach (var batch in results.Select(r => r.Batch).Distinct().Order())
        {
            var longest = results.Where(r => r.Model == "byte-simple" && r.Method == "decode" && r.Batch == batch).MaxBy(r => r.Context);
            targets.Add(longest?.MsPerStepAt16 is { } early && longest.MsPerStepAtContext is { } late
                ? new($"byte-simple per-token time at position {longest.Context} within 1.2× of position 16 (batch {batch})",
                    $"{late:F3} ms vs {early:F3} ms: {late / early:F2}×", late <= 1.2 * early)
                : new($"byte-simple per-token time independent of position (batch {batch})", "not measured", null));
            if (longest is { StateBytesAt16: { } small, StateBytesPerSequence: { } large })
                targets.Add(new($"byte-simple state memory independent of position (batch {batch})",
                    $"{Bytes(small)} at 16, {Bytes(large)} at {longest.Context}", small == large));
            var decode = Find("byte-simple", "decode", 256, batch);
            var recompute = Find("byte-simple", "recompute", 256, batch);
            targets.Add(decode?.TokensPerSecond is { } fast && recompute?.TokensPerSecond is { } slow
                ? new($"byte-simple decoding ≥ 20× the tokens/s of recomputation at context 256 (batch {batch})", $"{fast / slow:F1}×", fast >= 20 * slow)
                : new($"byte-simple decoding ≥ 20× recomputation at context 256 (batch {batch})", "not measured", null));
        }
        var mha = Find("byte-mha", "decode", 4096, 32);
        foreach (var model in results.Where(r => r.Context == 4096 && r.Batch == 32 && r.Method == "decode" && r.Model != "byte-mha").Select(r => r.Model).Distinct())
        {
            var aft = Find(model, "decode", 4096, 32);
            targets.Add(aft?.TokensPerSecond is { } a && mha?.TokensPerSecond is { } m
                ? new($"{model} decodes faster than byte-mha with its KV cache at context 4096, batch 32", $"{a:N0} vs {m:N0} tokens/s: {a / m:F2}×", a > m)
                : new($"{model} faster than byte-mha at context 4096, batch 32", "not measured", null));
        }
        return targets;
    }

    static void Plot(IReadOnlyList<DecodeResult> results, string path, long batch) =>
        LogLogPlot.Save(path, $"Decoding vs recomputation, batch {batch} (CPU)", "context (position decoded, log)", "generated tokens per second (log)",
            Alignment.LowerCenter,                                                         // the recompute points sit at the left edge
            results.Where(r => r.TokensPerSecond is > 0).GroupBy(r => $"{r.Model} {r.Method}").OrderBy(g => g.Key)
                .Select(g => new LogLogPlot.Series(g.Key, g.Key.EndsWith(" decode", StringComparison.Ordinal),
                    [.. g.OrderBy(r => r.Context).Select(r => ((double)r.Context, r.TokensPerSecond!.Value))])));

    static string F(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "";

    static string Bytes(long? bytes) => bytes switch
    {
        null => "",
        < 1 << 10 => $"{bytes} B",
        < 1 << 20 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes / 1048576.0:F1} MiB",
    };
}
