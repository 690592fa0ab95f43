using AftLab.Tests.Support;
using AftLab.Training;
using AftLab.Training.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Tests.Training;

/// <summary>
/// The trainer in bfloat16: it learns, the model it was given stays float32 (the masters, which the checkpoint holds),
/// and the steps really ran in bfloat16, which float32 training from the same start does not reproduce bit for bit.
/// </summary>
public sealed class MixedPrecisionTrainingTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    /// <summary>y = x · (1, −2, 3): a regression with a known answer.</summary>
    sealed class LinearTask : ITrainingTask
    {
        public string Metric => "mse";

        public long TokensPerBatch => 16;

        public (Tensor Inputs, Tensor Targets) Batch(Random random, Device device)
        {
            var x = tensor(Enumerable.Range(0, 48).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).reshape(16, 3);
            return (x, x.matmul(tensor(new float[] { 1, -2, 3 }).reshape(3, 1)));
        }

        public Tensor Loss(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets)
        {
            var output = model.forward(inputs);
            Assert.Equal(ScalarType.Float32, output.dtype);                   // the loss is computed in float32
            return (output - targets).square().mean();
        }

        public double ToMetric(double loss) => loss;

        public IReadOnlyDictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, Device device, bool quick) => new Dictionary<string, double>();
    }

    TrainingOptions Options(string output, string dtype) =>
        new("linear", TimeSpan.FromMinutes(10), 300, 0.05, Seed: 1, Context: 0, output, Resume: false, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10),
            WarmupSteps: 10, Dtype: dtype);

    static nn.Module<Tensor, Tensor> Model()
    {
        manual_seed(3);
        return nn.Linear(3, 1, hasBias: false);
    }

    [Fact]
    public void Bfloat16_training_learns_on_float32_masters_and_checkpoints_them_with_its_dtype()
    {
        var mixed = Model();
        var summary = Trainer.Train(mixed, new LinearTask(), Options(folder.File("bf16"), "bfloat16"), CPU, (_, _) => { }, newReplica: () => nn.Linear(3, 1, hasBias: false));
        var plain = Model();
        Trainer.Train(plain, new LinearTask(), Options(folder.File("fp32"), "float32"), CPU, (_, _) => { });

        Assert.Equal(300, summary.Steps);
        Assert.True(summary.TrainMetric < 1e-2, $"the mean squared error is {summary.TrainMetric} after 300 steps");
        var weights = mixed.parameters().Single();
        Assert.Equal(ScalarType.Float32, weights.dtype);
        Assert.True(weights.allclose(tensor(new float[] { 1, -2, 3 }).reshape(1, 3), atol: 0.05), string.Join(", ", weights.data<float>().ToArray()));
        Assert.False(weights.eq(plain.parameters().Single()).all().item<bool>(), "bit-identical to float32 training: the steps did not run in bfloat16");

        var state = new CheckpointStore(Path.Combine(folder.File("bf16"), "checkpoints")).Latest()!.Value.State;
        Assert.Equal("bfloat16", state.Dtype);
        Assert.Equal("float32", new CheckpointStore(Path.Combine(folder.File("fp32"), "checkpoints")).Latest()!.Value.State.Dtype);
    }

    [Fact]
    public void Bfloat16_without_a_way_to_make_the_working_copy_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Trainer.Train(Model(), new LinearTask(), Options(folder.File("run"), "bfloat16"), CPU, (_, _) => { }));
        Assert.Contains("newReplica", error.Message);
        Assert.False(Directory.Exists(folder.File("run")), "nothing may be written before the refusal");
    }

    public void Dispose() => folder.Dispose();
}
