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

    void Run(string model, int seed, long parameters, int steps, long tokens, double seconds, params (string Name, double Value)[] evaluation)
    {
        var folder = Path.Combine(root, model, $"seed-{seed}");
        Directory.CreateDirectory(folder);
        var results = new RunResults(model, parameters, "data", steps, tokens, seconds, 0.5, evaluation.ToDictionary(e => e.Name, e => e.Value), "aftlab train");
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
