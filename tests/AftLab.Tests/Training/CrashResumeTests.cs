using System.Globalization;
using System.Text.Json;
using AftLab.Models;
using AftLab.Tests.Support;
using AftLab.Training;
using AftLab.Training.Checkpoints;

namespace AftLab.Tests.Training;

/// <summary>
/// The app is killed while it writes checkpoints, and every resume continues from the last complete one:
/// nothing a user would miss (checkpoint, metrics) is lost or corrupted.
/// </summary>
public sealed class CrashResumeTests : IDisposable
{
    const string Model = "byte-simple";
    readonly TemporaryFolder folder = new();

    // The GCIDE excerpt the app carries: what is tested here is the checkpointing, not the data.
    Dictionary<string, string> Environment(bool crash = false) => new()
    {
        ["AFTLAB_PACKAGE_ROOT"] = folder.File("no-packages"),
        ["AFTLAB_CRASH_IN_CHECKPOINT"] = crash ? "1" : "0",
    };

    string Run => folder.File("run");

    string Checkpoints => Path.Combine(Run, "checkpoints");

    string[] Train(int steps, bool resume, double checkpointMinutes = 10) =>
    [
        "train", "--model", Model, "--steps", steps.ToString(CultureInfo.InvariantCulture), "--minutes", "30", "--batch", "4", "--context", "32",
        "--checkpoint-minutes", checkpointMinutes.ToString(CultureInfo.InvariantCulture), "--sample-bytes", "0", "--output", Run, .. resume ? new[] { "--resume" } : [],
    ];

    /// <summary>The checkpoint <c>latest</c> names, loaded into a fresh model as <c>eval</c> would load it.</summary>
    TrainingState LoadLatest()
    {
        var latest = new CheckpointStore(Checkpoints).Latest();
        Assert.NotNull(latest);
        using var model = ModelCatalog.Find(Model).Create();
        CheckpointStore.Restore(latest.Value.Path, model, optimizer: null);
        return latest.Value.State;
    }

    int[] MetricSteps() => File.ReadLines(Path.Combine(Run, "metrics.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)).ToArray();

    [Fact]
    public void A_crash_between_writing_and_publishing_a_checkpoint_keeps_the_previous_one()
    {
        var (code, output) = AftLabProcess.Run(folder.Path, Environment(), Train(20, resume: false));
        Assert.True(code == 0, output);
        Assert.Equal(20, LoadLatest().Step);

        // Checkpoint after every step, and die right after the first one is written, before it is published.
        (code, output) = AftLabProcess.Run(folder.Path, Environment(crash: true), Train(40, resume: true, checkpointMinutes: 1e-6));
        Assert.NotEqual(0, code);
        Assert.Contains("AFTLAB_CRASH_IN_CHECKPOINT", output);
        Assert.Single(Directory.GetDirectories(Checkpoints, "checkpoint-000021.partial-*"));   // the crashed run wrote its files, unpublished
        Assert.False(Directory.Exists(Path.Combine(Checkpoints, "checkpoint-000021")));
        Assert.Equal(20, LoadLatest().Step);

        (code, output) = AftLabProcess.Run(folder.Path, Environment(), Train(40, resume: true));
        Assert.True(code == 0, output);
        Assert.Equal(40, LoadLatest().Step);
        var steps = MetricSteps();
        Assert.Equal(steps.Order(), steps);                                 // rows of the crashed attempt after step 20 were dropped: no repeats
        Assert.Equal(steps.Length, steps.Distinct().Count());
        Assert.Equal(40, JsonDocument.Parse(File.ReadAllText(Path.Combine(Run, "results.json"))).RootElement.GetProperty("Steps").GetInt32());
    }

    [Fact]
    public void Kill_9_at_random_moments_during_checkpointing_never_loses_the_last_good_checkpoint()
    {
        var random = new Random(7);
        var lastStep = 0;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            // A checkpoint after every step: most of the run's time is spent writing them, so the kill lands in one.
            using var process = AftLabProcess.Start(folder.Path, Environment(), Train(2000, resume: attempt > 0, checkpointMinutes: 1e-6));
            var pointer = Path.Combine(Checkpoints, "latest");
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!(File.Exists(pointer) && new CheckpointStore(Checkpoints).Latest()!.Value.State.Step > lastStep + 2) && DateTime.UtcNow < deadline && !process.HasExited)
                Thread.Sleep(50);
            Thread.Sleep(random.Next(0, 400));
            Assert.False(process.HasExited, $"attempt {attempt}: the run ended before it could be killed (exit code {(process.HasExited ? process.ExitCode : 0)})");
            process.Kill(entireProcessTree: true);                          // SIGKILL on Linux: no handler runs
            process.WaitForExit();

            var state = LoadLatest();
            Assert.True(state.Step > lastStep, $"attempt {attempt}: the last good checkpoint went from step {lastStep} back to {state.Step}");
            lastStep = state.Step;
        }

        var (code, output) = AftLabProcess.Run(folder.Path, Environment(), Train(lastStep + 5, resume: true));
        Assert.True(code == 0, output);
        Assert.Equal(lastStep + 5, LoadLatest().Step);
        var steps = MetricSteps();
        Assert.Equal(steps.Order(), steps);
        Assert.Equal(lastStep + 5, steps[^1]);
    }

    public void Dispose() => folder.Dispose();
}
