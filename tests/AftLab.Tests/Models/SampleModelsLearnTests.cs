using AftLab.Models;
using AftLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Tests.Models;

/// <summary>
/// Every sample model, trained for a few steps on the real data (the Debian packages that .ci/run installs,
/// else the real samples the app carries), lowers its loss on batches it has not trained on.
/// </summary>
public sealed class SampleModelsLearnTests
{
    const int Steps = 30;

    // The 12 × 512 byte models (tens of millions of parameters, for GPU throughput) are the small byte models'
    // declarations made wider and deeper; 30 of their steps would take minutes on CI's two cores.
    public static TheoryData<string> Models => new(ModelCatalog.All.Where(m => m.ParameterCount < 5_000_000).Select(m => m.Name));

    [Theory]
    [MemberData(nameof(Models))]
    public void Loss_falls_after_a_few_steps_on_real_data(string name)
    {
        var entry = ModelCatalog.Find(name);
        var batch = entry.Family switch { ModelFamily.ByteLm => 8, ModelFamily.Pixel => 4, _ => 32 };
        var (task, _) = TrainingTasks.Create(entry, data: null, batch, context: 128, paddedSide: 32);
        manual_seed(3);
        using var model = entry.Create();
        var random = new Random(3);
        var heldOut = Enumerable.Range(0, 3).Select(_ => task.Batch(new Random(1000 + random.Next()), CPU)).ToList();
        double HeldOutLoss()
        {
            using var noGrad = no_grad();
            return heldOut.Average(b => task.Loss(model, b.Inputs, b.Targets).item<float>());
        }

        var before = HeldOutLoss();
        var optimizer = optim.AdamW(model.parameters(), TrainingTasks.DefaultLearningRate(entry.Family));
        for (var step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            var (inputs, targets) = task.Batch(random, CPU);
            optimizer.zero_grad();
            var loss = task.Loss(model, inputs, targets);
            loss.backward();
            optimizer.step();
            Assert.True(float.IsFinite(loss.item<float>()), $"{name}: loss {loss.item<float>()} at step {step}");
        }
        var after = HeldOutLoss();

        Assert.True(after < 0.9 * before, $"{name}: held-out loss {before:F3} → {after:F3} after {Steps} steps; expected a fall of at least 10%");
    }
}
