using AftLab.Tests.Support;
using AftLab.Training.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Tests.Training;

/// <summary>
/// Loading weights into a module's own tensors: the values arrive, every parameter keeps its tensor (so an optimizer
/// made earlier stays bound; on a GPU, TorchSharp's own load replaces them), and a file of another model is refused.
/// </summary>
public sealed class InPlaceWeightsTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    static nn.Module<Tensor, Tensor> Model(int seed, int width = 4)
    {
        manual_seed(seed);
        return nn.Sequential(nn.Linear(3, width), nn.LayerNorm(width));
    }

    [Fact]
    public void The_saved_values_arrive_in_the_same_tensors()
    {
        var file = folder.File("model.dat");
        var saved = Model(1);
        saved.save(file);
        var target = Model(2);
        var tensors = target.parameters().Select(p => p.Handle).ToList();
        Assert.False(saved.parameters().Zip(target.parameters()).All(p => p.First.eq(p.Second).all().item<bool>()), "the two models must differ before the load");

        InPlaceWeights.Load(target, file);

        Assert.True(saved.parameters().Zip(target.parameters()).All(p => p.First.eq(p.Second).all().item<bool>()));
        Assert.Equal(tensors, target.parameters().Select(p => p.Handle).ToList());
    }

    [Fact]
    public void An_optimizer_made_before_the_load_steps_the_loaded_weights()
    {
        var file = folder.File("model.dat");
        Model(1).save(file);
        var model = Model(2);
        var optimizer = optim.SGD(model.parameters(), 0.5);
        InPlaceWeights.Load(model, file);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        model.forward(ones(2, 3)).sum().backward();
        optimizer.step();
        Assert.Contains(model.parameters().Zip(before), p => !p.First.eq(p.Second).all().item<bool>());
    }

    [Fact]
    public void A_file_of_another_model_is_refused_naming_what_does_not_fit()
    {
        var file = folder.File("model.dat");
        nn.Linear(3, 4).save(file);
        var error = Assert.Throws<InvalidDataException>(() => InPlaceWeights.Load(Model(2), file));
        Assert.Contains("holds 2 tensors, and the model has 4", error.Message);
        Model(1, width: 5).save(file);
        Assert.Throws<ArgumentException>(() => InPlaceWeights.Load(Model(2), file));      // TorchSharp: mismatched shape
    }

    public void Dispose() => folder.Dispose();
}
