using System.Text.Json;
using AftLab.Tests.Support;
using AftLab.Training;
using AftLab.Training.Checkpoints;

namespace AftLab.Tests.CommandLine;

/// <summary>
/// <c>train --dtype bfloat16</c> from the command line, on the CPU (where libtorch's operators run bfloat16): the run
/// records its dtype, its checkpoint holds float32 weights that evaluate and resume like any other, and a resume in the
/// other dtype is refused. A CPU run has no peak GPU memory, and says nothing about it.
/// </summary>
public sealed class MixedPrecisionRunTests(TrainedRun trained) : IClassFixture<TrainedRun>, IDisposable
{
    readonly TemporaryFolder folder = new();

    string Run => folder.File("run");

    (int Code, string Output) App(params string[] arguments) => AftLabProcess.Run(folder.Path, TrainedRun.Environment(folder.Path), arguments);

    static string[] Bfloat16(string[] arguments) => [.. arguments, "--dtype", "bfloat16"];

    TrainingState NewestState() => new CheckpointStore(Path.Combine(Run, "checkpoints")).Latest()!.Value.State;

    [Fact]
    public void A_bfloat16_run_records_its_dtype_and_keeps_float32_weights_that_eval_and_resume_read()
    {
        var result = App(Bfloat16(TrainedRun.Train(Run, steps: 3)));
        Outcome.Succeeds(result);
        Assert.Contains("bfloat16 mixed precision (float32 master weights)", result.Output);
        Assert.DoesNotContain("GPU memory", result.Output);                  // no GPU: no figure and no notice

        using (var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(Run, "results.json"))))
        {
            Assert.Equal("bfloat16", results.RootElement.GetProperty("Dtype").GetString());
            Assert.Equal(3, results.RootElement.GetProperty("Steps").GetInt32());
            Assert.False(results.RootElement.TryGetProperty("PeakGpuMemoryBytes", out _), "a CPU run has no peak GPU memory to record");
            Assert.True(double.IsFinite(results.RootElement.GetProperty("Evaluation").GetProperty("held-out bits/byte").GetDouble()));
        }
        var state = NewestState();
        Assert.Equal("bfloat16", state.Dtype);
        Assert.Equal(3, state.Step);

        // Float32 weights take 4 bytes each: the same file length as the float32 run's (bfloat16 would be about half).
        var bfloat16Weights = new FileInfo(Path.Combine(Run, "checkpoints", CheckpointName.Of(3), "model.dat")).Length;
        var float32Run = trained.CopyTo(folder.File("float32"));
        Assert.Equal(new FileInfo(Path.Combine(float32Run, "checkpoints", CheckpointName.Of(3), "model.dat")).Length, bfloat16Weights);
        Assert.True(bfloat16Weights > 4 * AftLab.Models.ByteLmSimple.ParameterCount, $"model.dat holds {bfloat16Weights:N0} bytes: not float32 weights");

        var evaluation = App(TrainedRun.Eval(Run));
        Outcome.Succeeds(evaluation);
        Assert.Contains("held-out bits/byte", evaluation.Output);

        Outcome.Succeeds(App(Bfloat16(TrainedRun.Train(Run, steps: 5, resume: true))));
        Assert.Equal(5, NewestState().Step);
        Assert.Equal("bfloat16", NewestState().Dtype);
    }

    [Fact]
    public void Resuming_a_bfloat16_run_in_float32_is_refused_with_the_dtype_to_use()
    {
        Outcome.Succeeds(App(Bfloat16(TrainedRun.Train(Run, steps: 2))));
        var refused = App(TrainedRun.Train(Run, steps: 4, resume: true));
        Outcome.Fails(64, "holds a run trained in bfloat16, and this one asks for float32: resume it with --dtype bfloat16", refused);
        Assert.Equal(2, NewestState().Step);                                 // nothing trained
    }

    [Fact]
    public void Resuming_a_float32_run_in_bfloat16_is_refused_with_the_dtype_to_use()
    {
        trained.CopyTo(Run);
        var refused = App(Bfloat16(TrainedRun.Train(Run, steps: 5, resume: true)));
        Outcome.Fails(64, "holds a run trained in float32, and this one asks for bfloat16: resume it with --dtype float32", refused);
        Assert.Equal(3, NewestState().Step);
    }

    public void Dispose() => folder.Dispose();
}
