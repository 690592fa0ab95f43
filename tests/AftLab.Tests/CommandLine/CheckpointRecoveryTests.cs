using System.Globalization;
using AftLab.Tests.Support;
using AftLab.Training.Checkpoints;

namespace AftLab.Tests.CommandLine;

/// <summary>
/// The cases of issue 12 where a damaged run lost work or used garbage, from the command line: a missing, wrong or
/// foreign <c>latest</c>, a flipped bit, a truncated or deleted file, a hand-edited state. Each is recovered from the
/// newest checkpoint that verifies (saying which and why) or refused with one line; nothing verified is deleted.
/// </summary>
public sealed class CheckpointRecoveryTests(TrainedRun trained) : IClassFixture<TrainedRun>, IDisposable
{
    readonly TemporaryFolder folder = new();

    string Run => Path.Combine(folder.Path, "run");

    string Checkpoint(int step) => Path.Combine(Run, "checkpoints", CheckpointName.Of(step));

    (int Code, string Output) App(params string[] arguments) => AftLabProcess.Run(folder.Path, TrainedRun.Environment(folder.Path), arguments);

    (int Code, string Output) Eval() => App(TrainedRun.Eval(Run));

    static void FlipBit(string file, double at)
    {
        var bytes = File.ReadAllBytes(file);
        bytes[(int)(bytes.Length * at)] ^= 0x10;
        File.WriteAllBytes(file, bytes);
    }

    int[] MetricSteps() => File.ReadLines(Path.Combine(Run, "metrics.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)).ToArray();

    [Fact]
    public void Without_latest_resume_continues_from_the_newest_verified_checkpoint_and_says_so()
    {
        trained.CopyTo(Run);
        File.Delete(Path.Combine(Run, "checkpoints", "latest"));
        var result = App(TrainedRun.Train(Run, steps: 4, resume: true));
        Outcome.Succeeds(result);
        Assert.Contains("Using checkpoint-000003, the newest checkpoint that verifies: latest is missing", result.Output);
        Assert.Contains("Resuming from checkpoint-000003", result.Output);
        Assert.True(Directory.Exists(Checkpoint(3)), "the checkpoint resumed from must be kept");
        Assert.True(Directory.Exists(Checkpoint(4)));
        Assert.Equal([3, 4], MetricSteps()[^2..]);                          // metrics continue, not restart
    }

    [Theory]
    [InlineData("model.dat", "flip", "model.dat: SHA-256")]
    [InlineData("optimizer.dat", "flip", "optimizer.dat: SHA-256")]
    [InlineData("model.dat", "truncate", "model.dat: 1,000 bytes, the manifest says")]
    [InlineData("model.dat", "delete", "model.dat: missing")]
    [InlineData("state.json", "delete", "state.json: missing")]
    [InlineData("state.json", "step -5", "bytes, the manifest says")]
    [InlineData("state.json", "garbage", "state.json: 12 bytes")]
    [InlineData("state.json", "empty", "state.json: 0 bytes")]
    [InlineData("state.json", "null", "state.json: 4 bytes")]
    [InlineData("manifest.json", "flip", "manifest.json")]
    public void Eval_skips_a_damaged_newest_checkpoint_for_the_verified_one_before_it_and_names_the_file(string file, string damage, string message)
    {
        trained.CopyTo(Run);
        var path = Path.Combine(Checkpoint(3), file);
        switch (damage)
        {
            case "flip": FlipBit(path, 0.6); break;
            case "truncate": using (var s = File.OpenWrite(path)) s.SetLength(1000); break;
            case "delete": File.Delete(path); break;
            case "step -5": File.WriteAllText(path, File.ReadAllText(path).Replace("\"Step\":3", "\"Step\":-5")); break;
            case "garbage": File.WriteAllText(path, "{{{ not json"); break;
            case "empty": File.WriteAllText(path, ""); break;
            case "null": File.WriteAllText(path, "null"); break;
        }
        var result = Eval();
        Outcome.Succeeds(result);
        Assert.Contains("Skipping checkpoint-000003: it fails verification", result.Output);
        Assert.Contains(message, result.Output);
        Assert.Contains("Using checkpoint-000002", result.Output);
        Assert.Contains("after 2 steps", result.Output);
        Assert.DoesNotContain("NaN", result.Output);
        Assert.True(Directory.Exists(Checkpoint(3)), "eval only reads: it renames nothing");
    }

    [Fact]
    public void Resume_sets_a_damaged_checkpoint_aside_continues_from_the_one_before_and_never_blames_the_learning_rate()
    {
        trained.CopyTo(Run);
        FlipBit(Path.Combine(Checkpoint(3), "model.dat"), 0.5);
        var result = App(TrainedRun.Train(Run, steps: 4, resume: true));
        Outcome.Succeeds(result);
        Assert.Contains("checkpoint-000003 fails verification (model.dat: SHA-256", result.Output);
        Assert.Contains("was renamed to checkpoint-000003.corrupt", result.Output);
        Assert.Contains("Resuming from checkpoint-000002", result.Output);
        Assert.DoesNotContain("--lr", result.Output);
        Assert.True(Directory.Exists(Checkpoint(3) + ".corrupt"), "a damaged checkpoint is kept aside, never deleted");
        Assert.True(Directory.Exists(Checkpoint(4)));
    }

    [Theory]
    [InlineData("../../other/checkpoint-000029", "latest holds '../../other/checkpoint-000029', which does not name a checkpoint of this run")]
    [InlineData("checkpoint-000031", "latest names checkpoint-000031, which does not exist")]
    [InlineData("\u0001\u00ff garbage", "which does not name a checkpoint of this run")]
    [InlineData("checkpoint-000002", "latest names checkpoint-000002, an older one")]
    public void A_wrong_latest_is_only_a_hint_the_newest_verified_checkpoint_is_used(string pointer, string message)
    {
        trained.CopyTo(Run);
        File.WriteAllText(Path.Combine(Run, "checkpoints", "latest"), pointer);
        var result = Eval();
        Outcome.Succeeds(result);
        Assert.Contains("Using checkpoint-000003", result.Output);
        Assert.Contains(message, result.Output);
    }

    [Fact]
    public void When_no_checkpoint_verifies_eval_and_resume_refuse_with_the_reasons_and_delete_nothing()
    {
        trained.CopyTo(Run);
        FlipBit(Path.Combine(Checkpoint(3), "model.dat"), 0.5);
        using (var s = File.OpenWrite(Path.Combine(Checkpoint(2), "optimizer.dat"))) s.SetLength(10);

        Outcome.Fails(66, "No checkpoint in", Eval());
        var resume = App(TrainedRun.Train(Run, steps: 5, resume: true));
        Outcome.Fails(66, "checkpoint-000002 fails verification (optimizer.dat: 10 bytes", resume);
        Assert.True(Directory.Exists(Checkpoint(2) + ".corrupt") && Directory.Exists(Checkpoint(3) + ".corrupt"));
        // Set aside, they still block a silent restart from step 0.
        Outcome.Fails(66, "Set aside earlier: checkpoint-000002.corrupt, checkpoint-000003.corrupt", App(TrainedRun.Train(Run, steps: 5, resume: true)));
    }

    [Fact]
    public void A_checkpoint_of_another_model_is_refused_naming_both()
    {
        trained.CopyTo(Run);
        Outcome.Fails(66, "holds a checkpoint of 'byte-simple', not 'byte-full'", App(TrainedRun.Eval(Run, model: "byte-full")));
    }

    public void Dispose() => folder.Dispose();
}
