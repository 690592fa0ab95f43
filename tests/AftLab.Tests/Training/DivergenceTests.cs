using System.Security.Cryptography;
using AftLab.Tests.Support;
using AftLab.Training;
using AftLab.Training.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Tests.Training;

/// <summary>
/// A loss or a gradient that stops being finite ends training with a clear message, before the optimizer
/// step, and leaves the last good checkpoint exactly as it was.
/// </summary>
public sealed class DivergenceTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    /// <summary>A tiny regression task whose loss turns bad on its <paramref name="poisonAt"/>-th call.</summary>
    sealed class PoisonedTask(int poisonAt, bool gradientOnly) : ITrainingTask
    {
        int calls;

        public string Metric => "loss";

        public long TokensPerBatch => 4;

        public (Tensor Inputs, Tensor Targets) Batch(Random random, Device device) => (randn(4, 3), zeros(4, 1));

        public Tensor Loss(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets)
        {
            var loss = (model.forward(inputs) - targets).square().mean();
            if (++calls != poisonAt) return loss;
            if (!gradientOnly) return loss * double.NaN;
            // Finite value, infinite gradient: d√u/du at u = 0.
            var zero = model.parameters().Select(p => (p - p.detach()).sum()).Aggregate((a, b) => a + b);
            return loss + zero.sqrt();
        }

        public double ToMetric(double loss) => loss;

        public IReadOnlyDictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, Device device, bool quick) => new Dictionary<string, double>();
    }

    TrainingOptions Options(int steps, bool resume) =>
        new("test", TimeSpan.FromMinutes(10), steps, 1e-3, Seed: 1, Context: 0, folder.Path, resume, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10));

    [Theory]
    [InlineData(false, "The loss became NaN at step 8")]
    [InlineData(true, "The gradient norm became")]
    public void A_non_finite_loss_or_gradient_stops_training_and_keeps_the_last_good_checkpoint(bool gradientOnly, string message)
    {
        manual_seed(1);
        var model = nn.Linear(3, 1);
        Trainer.Train(model, new PoisonedTask(poisonAt: 0, gradientOnly), Options(5, resume: false), CPU, (_, _) => { });
        var store = new CheckpointStore(Path.Combine(folder.Path, "checkpoints"));
        var good = store.Latest()!.Value;
        var before = SHA256.HashData(File.ReadAllBytes(Path.Combine(good.Path, "model.dat")));

        var error = Assert.Throws<TrainingDivergedException>(() =>
            Trainer.Train(model, new PoisonedTask(poisonAt: 3, gradientOnly), Options(20, resume: true), CPU, (_, _) => { }));

        Assert.Contains(message, error.Message);
        Assert.Contains("the last good checkpoint in", error.Message);
        Assert.Contains("--lr", error.Message);
        Assert.True(model.parameters().All(p => isfinite(p).all().item<bool>()), "the bad step must not reach the weights");
        Assert.Equal(good.Path, store.Latest()!.Value.Path);
        Assert.Equal(5, store.Latest()!.Value.State.Step);
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(Path.Combine(good.Path, "model.dat"))));
    }

    [Fact]
    public void Diverging_before_the_first_checkpoint_does_not_promise_one()
    {
        manual_seed(1);
        var error = Assert.Throws<TrainingDivergedException>(() =>
            Trainer.Train(nn.Linear(3, 1), new PoisonedTask(poisonAt: 2, gradientOnly: false), Options(20, resume: false), CPU, (_, _) => { }));
        Assert.Contains("before its first checkpoint", error.Message);
        Assert.DoesNotContain("--resume", error.Message);
    }

    public void Dispose() => folder.Dispose();
}
