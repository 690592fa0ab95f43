using System.Globalization;
using System.Security.Cryptography;
using AftLab.Tests.Support;
using AftLab.Training.Checkpoints;

namespace AftLab.Tests.CommandLine;

/// <summary>
/// What a run folder goes through from the command line: a finished run resumed, two trainers at once, a folder
/// that is not a run, a full disk, a kill while pruning, and a resume that rolls back the logs.
/// </summary>
public sealed class RunFolderTests(TrainedRun trained) : IClassFixture<TrainedRun>, IDisposable
{
    readonly TemporaryFolder folder = new();

    string Run => Path.Combine(folder.Path, "run");

    string Checkpoints => Path.Combine(Run, "checkpoints");

    string Checkpoint(int step) => Path.Combine(Checkpoints, CheckpointName.Of(step));

    (int Code, string Output) App(string[] arguments, params (string, string)[] environment) =>
        AftLabProcess.Run(folder.Path, TrainedRun.Environment(folder.Path, environment), arguments);

    Dictionary<string, string> Fingerprint(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    string[] Leftovers() => Directory.GetDirectories(Checkpoints).Select(Path.GetFileName).OfType<string>().Where(n => n.Contains('.')).ToArray();

    [Fact]
    public void Resuming_a_finished_run_is_a_no_op_that_says_so()
    {
        trained.CopyTo(Run);
        var before = Fingerprint(Run);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var result = App(TrainedRun.Train(Run, steps: 3, resume: true));
            Outcome.Succeeds(result);
            Assert.Contains("Nothing to do:", result.Output);
            Assert.Contains("already finished its budget at step 3", result.Output);
            Assert.DoesNotContain("NaN", result.Output);
        }
        Assert.Equal(before, Fingerprint(Run));
    }

    [Fact]
    public void A_second_trainer_on_the_same_output_is_refused_naming_the_first()
    {
        trained.CopyTo(Run);
        using var first = AftLabProcess.Start(folder.Path, TrainedRun.Environment(folder.Path), TrainedRun.Train(Run, steps: 100_000, resume: true));
        try
        {
            var owner = Path.Combine(Run, "run.lock.owner");
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (!File.Exists(owner) && DateTime.UtcNow < deadline && !first.HasExited) Thread.Sleep(50);
            Assert.True(File.Exists(owner), "the first trainer never took the lock");
            var metrics = File.ReadAllText(Path.Combine(Run, "metrics.csv"));

            var second = App(TrainedRun.Train(Run, steps: 100_000, resume: true));
            Outcome.Fails(75, $"is being written by process {first.Id}", second);
            // The first trainer goes on appending while the second is refused, so the log may have grown; what the
            // refused trainer must not do is roll it back or add rows of its own.
            var after = File.ReadAllText(Path.Combine(Run, "metrics.csv"));
            Assert.StartsWith(metrics, after);
            AssertStepsIncrease(after[..(after.LastIndexOf('\n') + 1)]);      // a row being written is not yet a row
        }
        finally
        {
            first.Kill(entireProcessTree: true);
            first.WaitForExit();
        }
        // The lock died with its process: the next trainer gets it.
        Outcome.Succeeds(App(TrainedRun.Train(Run, steps: 4, resume: true)));
    }

    /// <summary>The step column of a metrics.csv text, header skipped.</summary>
    static int[] Steps(string metrics) =>
        metrics.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)).ToArray();

    static void AssertStepsIncrease(string metrics)
    {
        var steps = Steps(metrics);
        Assert.True(steps.Zip(steps.Skip(1)).All(pair => pair.First < pair.Second), $"metrics.csv steps are not increasing: {string.Join(' ', steps)}");
    }

    [Fact]
    public void A_folder_that_is_not_a_run_is_refused_and_left_as_it_was()
    {
        Directory.CreateDirectory(Run);
        File.WriteAllText(Path.Combine(Run, "metrics.csv"), "my own numbers\n");
        File.WriteAllText(Path.Combine(Run, "results.json"), "{\"mine\": true}");
        var before = Fingerprint(Run);
        Outcome.Fails(73, "is a folder that is not an aftlab run (it has no aftlab-run.json)", App(TrainedRun.Train(Run, steps: 1)));
        Assert.Equal(before, Fingerprint(Run));
    }

    [Fact]
    public void An_output_whose_parent_cannot_be_created_is_one_line_with_exit_code_73()
    {
        File.WriteAllText(folder.File("a-file"), "");
        Outcome.Fails(73, "Cannot create the run folder", App(TrainedRun.Train(folder.File("a-file/run"), steps: 1)));
    }

    /// <summary>
    /// A parent the process may not write into. The tests run as root, for whom file modes grant everything, so the
    /// folder is one the kernel refuses to anyone: /sys takes no new entries (EPERM).
    /// </summary>
    [Fact]
    public void An_output_under_an_unwritable_parent_is_one_line_with_exit_code_73()
    {
        Assert.True(Directory.Exists("/sys"), "this test needs Linux's /sys");
        Outcome.Fails(73, "Cannot create the run folder", App(TrainedRun.Train("/sys/aftlab-test-run", steps: 1)));
    }

    [Fact]
    public void A_new_run_that_fails_before_its_first_checkpoint_leaves_nothing_behind()
    {
        var result = App(TrainedRun.Train(Path.Combine(Run, "nested"), steps: 1), ("AFTLAB_CRASH_IN_CHECKPOINT", "disk-full"));
        Outcome.Fails(74, "No space left on device", result);
        Assert.Contains("There is no earlier checkpoint", result.Output);
        Assert.False(Directory.Exists(Run), "the run folder (and the parent it created) should be gone");
    }

    [Theory]
    [InlineData("AFTLAB_FREE_BYTES", "1000", "Not enough disk space for the next checkpoint")]
    [InlineData("AFTLAB_CRASH_IN_CHECKPOINT", "disk-full", "No space left on device")]
    public void A_full_disk_keeps_the_previous_checkpoint_and_leaves_no_partial_one(string variable, string value, string message)
    {
        trained.CopyTo(Run);
        var result = App(TrainedRun.Train(Run, steps: 4, resume: true), (variable, value));
        Outcome.Fails(74, message, result);
        Assert.Contains("The previous checkpoint, checkpoint-000003, is intact", result.Output);
        Assert.Equal(CheckpointStatus.Verified, CheckpointCheck.Of(Checkpoint(3)).Status);
        Assert.Empty(Leftovers());
        Outcome.Succeeds(App(TrainedRun.Train(Run, steps: 4, resume: true)));    // and the next resume is clean
    }

    [Fact]
    public void A_kill_while_pruning_leaves_a_leftover_that_the_next_resume_ignores_and_removes()
    {
        trained.CopyTo(Run);
        var (code, output) = App(TrainedRun.Train(Run, steps: 6, resume: true, checkpointMinutes: 1e-6), ("AFTLAB_CRASH_IN_CHECKPOINT", "pruning"));
        Assert.NotEqual(0, code);
        Assert.Contains("AFTLAB_CRASH_IN_CHECKPOINT=pruning", output);
        Assert.True(Directory.Exists(Checkpoint(2) + ".pruning"), "the kill should land half-way through deleting checkpoint-000002");
        Assert.Equal(CheckpointStatus.Verified, CheckpointCheck.Of(Checkpoint(4)).Status);

        var resumed = App(TrainedRun.Train(Run, steps: 6, resume: true));
        Outcome.Succeeds(resumed);
        Assert.Contains("Resuming from checkpoint-000004", resumed.Output);
        Assert.DoesNotContain("fails verification", resumed.Output);
        Assert.Empty(Leftovers());
        Assert.Equal(CheckpointStatus.Verified, CheckpointCheck.Of(Checkpoint(6)).Status);
    }

    [Fact]
    public void After_a_resume_that_rolls_back_metrics_and_tensorboard_have_each_step_once()
    {
        trained.CopyTo(Run);
        var bytes = File.ReadAllBytes(Path.Combine(Checkpoint(3), "model.dat"));
        bytes[bytes.Length / 2] ^= 1;                                       // step 3 is lost: the run goes back to step 2
        File.WriteAllBytes(Path.Combine(Checkpoint(3), "model.dat"), bytes);
        Assert.Equal(1, TensorBoardEvents.Count(Path.Combine(Run, "tensorboard"), "train/loss"));

        Outcome.Succeeds(App(TrainedRun.Train(Run, steps: 4, resume: true)));
        var steps = Steps(File.ReadAllText(Path.Combine(Run, "metrics.csv")));
        Assert.Equal([4], steps);                                            // the row of the lost step 3 is gone
        Assert.Equal(steps.Length, TensorBoardEvents.Count(Path.Combine(Run, "tensorboard"), "train/loss"));
    }

    public void Dispose() => folder.Dispose();
}
