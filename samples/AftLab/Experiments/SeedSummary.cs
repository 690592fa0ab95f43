using System.Globalization;
using System.Text;
using System.Text.Json;
using AftLab.Commands;
using AftLab.Runtime;

namespace AftLab.Experiments;

/// <summary>One row of a seed summary: a model's runs over several seeds.</summary>
/// <param name="Metrics">Each evaluation metric's mean and sample standard deviation, in the runs' order of metrics.</param>
/// <param name="PeakGpuMemoryBytes">The training processes' peak GPU memory, when every seed's results.json has one (CUDA runs under the pool allocator); else null.</param>
public sealed record SeedRow(string Model, long Parameters, IReadOnlyList<int> Seeds, Spread Steps, Spread TokensPerSecond,
    IReadOnlyList<(string Name, Spread Value)> Metrics, Spread? PeakGpuMemoryBytes = null);

/// <summary>
/// Mean and sample standard deviation (n − 1) of one quantity over seeds. A single value has no spread: its
/// standard deviation is NaN, and the tables show the mean alone rather than a "± 0" that would read as agreement.
/// </summary>
public readonly record struct Spread(double Mean, double StandardDeviation)
{
    public static Spread Of(IReadOnlyCollection<double> values)
    {
        var mean = values.Average();
        var sd = values.Count < 2 ? double.NaN : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new(mean, sd);
    }

    /// <summary>Whether there were at least two values to spread.</summary>
    public bool HasSpread => !double.IsNaN(StandardDeviation);
}

/// <summary>
/// Collects the <c>results.json</c> of training runs laid out as <c>ROOT/MODEL/seed-N/</c> (as
/// <c>samples/AftLab/experiments.sh</c> writes them) and reports each model's mean ± standard deviation over its seeds.
/// </summary>
public static class SeedSummary
{
    /// <summary>The rows, one per model folder under <paramref name="root"/> that holds at least one <c>seed-N/results.json</c>, sorted by name.</summary>
    /// <exception cref="AftLabException">(exit code <see cref="ExitCodes.DataError"/>) No run was found, a results.json cannot be read, or the seeds of one model disagree on its parameter count or metrics.</exception>
    public static IReadOnlyList<SeedRow> Collect(string root)
    {
        if (!Directory.Exists(root))
            throw Bad($"No runs folder at {Path.GetFullPath(root)}; run samples/AftLab/experiments.sh first (it writes MODEL/seed-N/results.json there).");
        var rows = new List<SeedRow>();
        foreach (var modelFolder in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            var runs = Directory.GetDirectories(modelFolder, "seed-*")
                .Select(folder => (Seed: SeedOf(folder), File: Path.Combine(folder, "results.json")))
                .Where(r => r.Seed is not null && File.Exists(r.File))
                .OrderBy(r => r.Seed)
                .Select(r => (Seed: r.Seed!.Value, Results: Read(r.File)))
                .ToList();
            if (runs.Count > 0) rows.Add(Row(Path.GetFileName(modelFolder), runs));
        }
        if (rows.Count == 0)
            throw Bad($"No MODEL/seed-N/results.json under {Path.GetFullPath(root)}; run samples/AftLab/experiments.sh first.");
        return rows;
    }

    /// <summary>
    /// Markdown tables, one per set of evaluation metrics (a task), each row a model over its seeds. A table gets a
    /// peak GPU memory column when one of its rows has that figure; the other rows leave it empty.
    /// </summary>
    public static string Markdown(IReadOnlyList<SeedRow> rows)
    {
        var text = new StringBuilder();
        foreach (var task in rows.GroupBy(r => string.Join("|", r.Metrics.Select(m => m.Name))))
        {
            var names = task.First().Metrics.Select(m => m.Name).ToList();
            var memory = task.Any(r => r.PeakGpuMemoryBytes is not null);
            text.AppendLine($"| model | parameters | seeds | steps | tokens/s | {string.Join(" | ", names)} |{(memory ? " peak GPU memory |" : "")}");
            text.AppendLine($"|---|---|---|---|---|{string.Concat(names.Select(_ => "---|"))}{(memory ? "---|" : "")}");
            foreach (var row in task)
                text.AppendLine($"| `{row.Model}` | {row.Parameters.ToString("N0", CultureInfo.InvariantCulture)} | {string.Join(", ", row.Seeds)} | " +
                    $"{Format(row.Steps, "N0")} | {Format(row.TokensPerSecond, "N0")} | {string.Join(" | ", row.Metrics.Select(m => FormatMetric(m.Name, m.Value)))} |" +
                    (memory ? $" {(row.PeakGpuMemoryBytes is { } peak ? FormatMiB(peak) : "")} |" : ""));
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <summary>The quantity name of peak GPU memory in <see cref="Csv"/>.</summary>
    public const string PeakQuantity = "peak GPU memory bytes";

    /// <summary>The same numbers, one CSV line per model and quantity: model,quantity,seeds,mean,sd (sd empty for a single seed); peak GPU memory only where the row has it.</summary>
    public static string Csv(IReadOnlyList<SeedRow> rows)
    {
        var text = new StringBuilder("model,quantity,seeds,mean,sd\n");
        foreach (var row in rows)
        {
            var seeds = string.Join(" ", row.Seeds);
            void Line(string quantity, Spread value) =>
                text.Append(CultureInfo.InvariantCulture, $"{row.Model},{quantity},{seeds},{value.Mean:R},{(value.HasSpread ? value.StandardDeviation.ToString("R", CultureInfo.InvariantCulture) : "")}\n");
            Line("steps", row.Steps);
            Line("tokens/s", row.TokensPerSecond);
            foreach (var (name, value) in row.Metrics) Line(name, value);
            if (row.PeakGpuMemoryBytes is { } peak) Line(PeakQuantity, peak);
        }
        return text.ToString();
    }

    static SeedRow Row(string model, List<(int Seed, RunResults Results)> runs)
    {
        var first = runs[0].Results;
        foreach (var (seed, results) in runs)
        {
            if (results.Parameters != first.Parameters)
                throw Bad(FormattableString.Invariant($"{model}: seed {seed} has {results.Parameters:N0} parameters, seed {runs[0].Seed} {first.Parameters:N0}; the seeds of one row must be the same model."));
            if (!results.Evaluation.Keys.Order().SequenceEqual(first.Evaluation.Keys.Order()))
                throw Bad($"{model}: seed {seed} reports {string.Join(", ", results.Evaluation.Keys)}, seed {runs[0].Seed} {string.Join(", ", first.Evaluation.Keys)}.");
            if (results.Dtype != first.Dtype)
                throw Bad($"{model}: seed {seed} trained in {results.Dtype}, seed {runs[0].Seed} in {first.Dtype}; the seeds of one row must be the same experiment.");
        }
        // A mean over only the seeds that have a figure would pass for all of them: all or nothing.
        var peaks = runs.Select(r => r.Results.PeakGpuMemoryBytes).ToList();
        return new(model, first.Parameters, [.. runs.Select(r => r.Seed)],
            Spread.Of([.. runs.Select(r => (double)r.Results.Steps)]),
            Spread.Of([.. runs.Select(r => r.Results.Tokens / r.Results.Seconds)]),
            [.. first.Evaluation.Keys.Select(name => (name, Spread.Of([.. runs.Select(r => r.Results.Evaluation[name])])))],
            peaks.All(p => p is not null) ? Spread.Of([.. peaks.Select(p => (double)p!.Value)]) : null);
    }

    static int? SeedOf(string folder) =>
        int.TryParse(Path.GetFileName(folder)["seed-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var seed) ? seed : null;

    static RunResults Read(string file)
    {
        try
        {
            return JsonSerializer.Deserialize<RunResults>(File.ReadAllText(file), FiniteJson.Indented)
                ?? throw Bad($"{file} holds no results.");
        }
        catch (JsonException e)
        {
            throw Bad($"{file} is not a training run's results.json: {e.Message}");
        }
    }

    static AftLabException Bad(string message) => new(message, ExitCodes.DataError);

    static string Format(Spread value, string format) =>
        value.HasSpread
            ? $"{value.Mean.ToString(format, CultureInfo.InvariantCulture)} ± {value.StandardDeviation.ToString(format, CultureInfo.InvariantCulture)}"
            : value.Mean.ToString(format, CultureInfo.InvariantCulture);

    static string FormatMiB(Spread bytes) =>
        Format(new Spread(bytes.Mean / (1 << 20), bytes.StandardDeviation / (1 << 20)), "N0") + " MiB";

    // Accuracies read best as percentages; losses and bits with three decimals, as in docs/results.md.
    static string FormatMetric(string name, Spread value) =>
        name.Contains("top-1", StringComparison.Ordinal)
            ? Format(new Spread(value.Mean * 100, value.StandardDeviation * 100), "F2") + " %"
            : Format(value, "F3");
}
