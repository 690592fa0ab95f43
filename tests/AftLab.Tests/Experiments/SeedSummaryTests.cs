using System.Text.Json;
using AftLab.Commands;
using AftLab.Experiments;
using AftLab.Runtime;
using AftLab.Tests.Support;
using Xunit;

namespace AftLab.Tests.Experiments;

/// <summary>Means and spreads over seeds, from run folders laid out as experiments.sh writes them.</summary>
public sealed class SeedSummaryTests : IDisposable
{
    readonly string root = Path.Combine(Path.GetTempPath(), "aftlab-seeds-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    void Run(string model, int seed, long parameters, int steps, long tokens, double seconds, params (string Name, double Value)[] evaluation) =>
        Write(model, seed, new RunResults(model, parameters, "data", steps, tokens, seconds, 0.5, evaluation.ToDictionary(e => e.Name, e => e.Value), "aftlab train"));

    /// <summary>A bfloat16 byte-LM run on a GPU, with its peak memory when <paramref name="peakBytes"/> is given.</summary>
    void GpuRun(string model, int seed, long? peakBytes, string dtype = "bfloat16") =>
        Write(model, seed, new RunResults(model, 1000, "data", 100, 1000, 100, 0.5, new Dictionary<string, double> { ["held-out bits/byte"] = 2.0 }, "aftlab train",
            dtype, peakBytes));

    void Write(string model, int seed, RunResults results)
    {
        var folder = Path.Combine(root, model, $"seed-{seed}");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "results.json"), JsonSerializer.Serialize(results, FiniteJson.Indented));
    }

    [Fact]
    public void Each_model_gets_the_mean_and_sample_standard_deviation_of_its_seeds()
    {
        // bits 2.0, 2.2, 2.4: mean 2.2, sample sd 0.2; steps 100, 110, 120: mean 110, sd 10; tokens/s 10, 11, 12.
        Run("byte-a", 1, 1000, 100, 1000, 100, ("held-out bits/byte", 2.0));
        Run("byte-a", 2, 1000, 110, 1100, 100, ("held-out bits/byte", 2.2));
        Run("byte-a", 3, 1000, 120, 1200, 100, ("held-out bits/byte", 2.4));
        var row = Assert.Single(SeedSummary.Collect(root));
        Assert.Equal("byte-a", row.Model);
        Assert.Equal([1, 2, 3], row.Seeds);
        Assert.Equal(110, row.Steps.Mean, 9);
        Assert.Equal(10, row.Steps.StandardDeviation, 9);
        Assert.Equal(11, row.TokensPerSecond.Mean, 9);
        Assert.Equal(1, row.TokensPerSecond.StandardDeviation, 9);
        var (name, bits) = Assert.Single(row.Metrics);
        Assert.Equal("held-out bits/byte", name);
        Assert.Equal(2.2, bits.Mean, 9);
        Assert.Equal(0.2, bits.StandardDeviation, 9);
    }

    [Fact]
    public void Markdown_has_a_table_per_task_with_accuracies_in_percent()
    {
        Run("image-a", 1, 5000, 10, 640, 10, ("test top-1", 0.80), ("test top-1 at 32×32", 0.70));
        Run("image-a", 2, 5000, 12, 768, 10, ("test top-1", 0.82), ("test top-1 at 32×32", 0.72));
        Run("pixel-a", 7, 2000, 10, 100, 10, ("test bits/dim", 3.5));
        var rows = SeedSummary.Collect(root);
        var markdown = SeedSummary.Markdown(rows);
        Assert.Contains("| model | parameters | seeds | steps | tokens/s | test top-1 | test top-1 at 32×32 |", markdown);
        Assert.Contains("| `image-a` | 5,000 | 1, 2 | 11 ± 1 | 70 ± 9 | 81.00 ± 1.41 % | 71.00 ± 1.41 % |", markdown);
        Assert.Contains("| model | parameters | seeds | steps | tokens/s | test bits/dim |", markdown);
        Assert.Contains("| `pixel-a` | 2,000 | 7 | 10 | 10 | 3.500 |", markdown);                 // one seed: no spread to show
        Assert.Contains("\npixel-a,steps,7,10,\n", SeedSummary.Csv(rows));
    }

    [Fact]
    public void Peak_GPU_memory_is_a_column_in_MiB_where_a_row_has_it_and_empty_where_not()
    {
        GpuRun("byte-gpu", 1, 1L << 30);
        GpuRun("byte-gpu", 2, 3L << 30);                                        // 1 and 3 GiB: mean 2,048 MiB, sd 1,448 MiB
        GpuRun("byte-half", 1, 1L << 30);
        GpuRun("byte-half", 2, null);                                           // one seed without a figure: no figure for the row
        Run("byte-cpu", 1, 1000, 100, 1000, 100, ("held-out bits/byte", 2.0));
        var rows = SeedSummary.Collect(root);
        Assert.Equal(2L << 30, rows.Single(r => r.Model == "byte-gpu").PeakGpuMemoryBytes!.Value.Mean, 3);
        Assert.Null(rows.Single(r => r.Model == "byte-half").PeakGpuMemoryBytes);

        var markdown = SeedSummary.Markdown(rows);
        Assert.Contains("| model | parameters | seeds | steps | tokens/s | held-out bits/byte | peak GPU memory |\n|---|---|---|---|---|---|---|\n", markdown.ReplaceLineEndings("\n"));
        Assert.Contains("| `byte-gpu` | 1,000 | 1, 2 | 100 ± 0 | 10 ± 0 | 2.000 ± 0.000 | 2,048 ± 1,448 MiB |", markdown);
        Assert.Contains("| `byte-half` | 1,000 | 1, 2 | 100 ± 0 | 10 ± 0 | 2.000 ± 0.000 |  |", markdown);
        Assert.Contains("| `byte-cpu` | 1,000 | 1 | 100 | 10 | 2.000 |  |", markdown);

        var csv = SeedSummary.Csv(rows);
        Assert.Contains($"\nbyte-gpu,peak GPU memory bytes,1 2,{2L << 30},", csv);
        Assert.DoesNotContain("byte-half,peak GPU memory bytes", csv);
        Assert.DoesNotContain("byte-cpu,peak GPU memory bytes", csv);
    }

    [Fact]
    public void Without_peak_GPU_memory_the_tables_have_no_such_column()
    {
        Run("byte-a", 1, 1000, 100, 1000, 100, ("held-out bits/byte", 2.0));
        GpuRun("byte-b", 1, null);
        var rows = SeedSummary.Collect(root);
        Assert.All(rows, r => Assert.Null(r.PeakGpuMemoryBytes));
        Assert.DoesNotContain("GPU memory", SeedSummary.Markdown(rows));
        Assert.DoesNotContain("GPU memory", SeedSummary.Csv(rows));
        Assert.Contains("| `byte-b` | 1,000 | 1 | 100 | 10 | 2.000 |\n", SeedSummary.Markdown(rows).ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_results_file_from_before_dtypes_and_peaks_reads_as_float32_without_a_peak()
    {
        Directory.CreateDirectory(Path.Combine(root, "byte-a", "seed-1"));
        File.WriteAllText(Path.Combine(root, "byte-a", "seed-1", "results.json"),
            """{ "Model": "byte-a", "Parameters": 1000, "Data": "data", "Steps": 100, "Tokens": 1000, "Seconds": 100, "TrainMetric": 0.5, "Evaluation": { "held-out bits/byte": 2.0 }, "Command": "aftlab train" }""");
        GpuRun("byte-a", 2, null, dtype: "float32");                           // refused below if the old one read as anything but float32
        var row = Assert.Single(SeedSummary.Collect(root));
        Assert.Null(row.PeakGpuMemoryBytes);
        Assert.Equal([1, 2], row.Seeds);
    }

    [Fact]
    public void Seeds_of_one_model_trained_in_different_dtypes_are_refused_by_name()
    {
        GpuRun("byte-a", 1, null, dtype: "float32");
        GpuRun("byte-a", 2, null, dtype: "bfloat16");
        var error = Assert.Throws<AftLabException>(() => SeedSummary.Collect(root));
        Assert.Equal(ExitCodes.DataError, error.ExitCode);
        Assert.Contains("byte-a: seed 2 trained in bfloat16, seed 1 in float32", error.Message);
    }

    [Fact]
    public void The_verb_carries_peak_GPU_memory_into_summary_md_and_csv()
    {
        GpuRun("byte-gpu", 1, 1L << 30);
        var (code, output) = AftLabProcess.Run(root, TrainedRun.Environment(root), "summarize", "--runs", root);
        Assert.True(code == 0, output);
        Assert.Contains("| `byte-gpu` | 1,000 | 1 | 100 | 10 | 2.000 | 1,024 MiB |", File.ReadAllText(Path.Combine(root, "summary.md")));
        Assert.Contains($"byte-gpu,peak GPU memory bytes,1,{1L << 30},\n", File.ReadAllText(Path.Combine(root, "summary.csv")));
    }

    [Fact]
    public void Seeds_of_one_model_with_different_parameter_counts_are_refused_by_name()
    {
        Run("byte-a", 1, 1000, 100, 1000, 100, ("held-out bits/byte", 2.0));
        Run("byte-a", 2, 1001, 100, 1000, 100, ("held-out bits/byte", 2.0));
        var error = Assert.Throws<AftLabException>(() => SeedSummary.Collect(root));
        Assert.Equal(ExitCodes.DataError, error.ExitCode);
        Assert.Contains("byte-a: seed 2 has 1,001 parameters, seed 1 1,000", error.Message);
    }

    [Fact]
    public void A_folder_without_runs_is_refused_with_what_to_do()
    {
        Directory.CreateDirectory(Path.Combine(root, "byte-a", "seed-1"));           // no results.json: an unfinished run
        var error = Assert.Throws<AftLabException>(() => SeedSummary.Collect(root));
        Assert.Contains("experiments.sh", error.Message);
        Assert.Throws<AftLabException>(() => SeedSummary.Collect(Path.Combine(root, "missing")));
    }

    [Fact]
    public void A_damaged_results_file_is_named()
    {
        Directory.CreateDirectory(Path.Combine(root, "byte-a", "seed-1"));
        File.WriteAllText(Path.Combine(root, "byte-a", "seed-1", "results.json"), "{ not json");
        var error = Assert.Throws<AftLabException>(() => SeedSummary.Collect(root));
        Assert.Contains(Path.Combine("byte-a", "seed-1", "results.json"), error.Message);
    }

    [Fact]
    public void The_verb_writes_summary_md_and_csv_and_refuses_an_empty_folder_with_exit_code_65()
    {
        Run("byte-a", 1, 1000, 100, 1000, 100, ("held-out bits/byte", 2.0));
        Run("byte-a", 2, 1000, 100, 1000, 100, ("held-out bits/byte", 2.5));
        var (code, output) = AftLabProcess.Run(root, TrainedRun.Environment(root), "summarize", "--runs", root);
        Assert.True(code == 0, output);
        Assert.Contains("| `byte-a` | 1,000 | 1, 2 | 100 ± 0 | 10 ± 0 | 2.250 ± 0.354 |", File.ReadAllText(Path.Combine(root, "summary.md")));
        Assert.StartsWith("model,quantity,seeds,mean,sd\nbyte-a,steps,1 2,100,0\n", File.ReadAllText(Path.Combine(root, "summary.csv")));
        var empty = Path.Combine(root, "empty");
        Directory.CreateDirectory(empty);
        Outcome.Fails(65, "No MODEL/seed-N/results.json under", AftLabProcess.Run(root, TrainedRun.Environment(root), "summarize", "--runs", empty));
    }
}
