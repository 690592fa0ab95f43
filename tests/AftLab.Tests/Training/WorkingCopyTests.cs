using AftLab.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftLab.Tests.Training;

/// <summary>
/// Mixed precision's master-weight logic, on small modules: the working copy takes the float32 masters rounded to
/// bfloat16, gives its gradients back to them as float32, computes in bfloat16 and returns float32, and the masters
/// keep updates that bfloat16 weights would round away.
/// </summary>
public sealed class WorkingCopyTests
{
    /// <summary>Two layers, of which the forward uses one: a parameter no loss reaches.</summary>
    sealed class OneUsedLayer : nn.Module<Tensor, Tensor>
    {
        readonly Linear used = nn.Linear(3, 2), unused = nn.Linear(3, 2);

        public OneUsedLayer() : base("one_used_layer") => RegisterComponents();

        public override Tensor forward(Tensor input) => used.forward(input);
    }

    static (Linear Master, Linear Replica, WorkingCopy Copy) Pair(int masterSeed = 1, int replicaSeed = 2)
    {
        manual_seed(masterSeed);
        var master = nn.Linear(3, 2);
        manual_seed(replicaSeed);
        var replica = nn.Linear(3, 2);
        return (master, replica, new WorkingCopy(master, replica, ScalarType.BFloat16, CPU));
    }

    [Fact]
    public void Loading_the_masters_rounds_their_float32_weights_into_the_bfloat16_copy()
    {
        var (master, replica, copy) = Pair();
        Assert.Equal(ScalarType.BFloat16, replica.weight!.dtype);
        Assert.False(replica.weight.to(ScalarType.Float32).eq(master.weight!.to(ScalarType.BFloat16).to(ScalarType.Float32)).all().item<bool>(),
            "the replica must start with other weights, or this test shows nothing");
        copy.LoadMasters();
        foreach (var ((name, m), (_, w)) in master.named_parameters().Zip(replica.named_parameters()))
        {
            Assert.Equal(ScalarType.Float32, m.dtype);
            Assert.Equal(ScalarType.BFloat16, w.dtype);
            Assert.True(w.eq(m.to(ScalarType.BFloat16)).all().item<bool>(), $"{name}: the working weight is not the master's, rounded");
        }
    }

    [Fact]
    public void Storing_gradients_gives_the_masters_the_working_gradients_as_float32_each_step_afresh()
    {
        var (master, replica, copy) = Pair();
        copy.LoadMasters();
        Assert.Null(master.weight!.grad);
        foreach (var scale in new[] { 1.0, -3.0 })                            // the second step overwrites, not accumulates
        {
            copy.ZeroGradients();
            (copy.forward(randn(4, 3)) * scale).square().sum().backward();
            copy.StoreGradients();
            foreach (var ((name, m), (_, w)) in master.named_parameters().Zip(replica.named_parameters()))
            {
                Assert.Equal(ScalarType.Float32, m.grad!.dtype);
                Assert.Equal(ScalarType.BFloat16, w.grad!.dtype);
                Assert.True(m.grad.abs().sum().item<float>() > 0, $"{name}: no gradient reached the master");
                Assert.True(m.grad.eq(w.grad.to(ScalarType.Float32)).all().item<bool>(), $"{name}: the master's gradient is not the working one, widened");
            }
        }
    }

    [Fact]
    public void A_parameter_the_loss_does_not_reach_gets_no_gradient_on_its_master()
    {
        manual_seed(1);
        var master = new OneUsedLayer();
        var copy = new WorkingCopy(master, new OneUsedLayer(), ScalarType.BFloat16, CPU);
        var unused = master.named_parameters().Single(p => p.name == "unused.weight").parameter;
        unused.grad = ones_like(unused);                                     // left from an earlier step
        copy.LoadMasters();
        copy.forward(randn(4, 3)).sum().backward();
        copy.StoreGradients();
        Assert.Null(unused.grad);
        Assert.NotNull(master.named_parameters().Single(p => p.name == "used.weight").parameter.grad);
    }

    [Fact]
    public void The_forward_casts_float_inputs_to_bfloat16_and_returns_float32()
    {
        var (_, replica, copy) = Pair();
        copy.LoadMasters();
        var input = randn(4, 3);
        var output = copy.forward(input);                                   // a bfloat16 Linear would refuse the float32 input itself
        Assert.Equal(ScalarType.Float32, output.dtype);
        using var noGrad = no_grad();
        Assert.True(output.eq(replica.forward(input.to(ScalarType.BFloat16)).to(ScalarType.Float32)).all().item<bool>());
    }

    [Fact]
    public void The_masters_keep_updates_that_bfloat16_weights_would_round_away()
    {
        // w = 1, gradient 1, lr 1e-3: each step subtracts 0.001, under half of bfloat16's spacing of 2⁻⁸ just below 1.
        var master = nn.Linear(1, 1, hasBias: false);
        var alone = nn.Linear(1, 1, hasBias: false);
        using (no_grad())
        {
            master.weight!.fill_(1);
            alone.weight!.fill_(1);
        }
        alone.to(ScalarType.BFloat16);
        var copy = new WorkingCopy(master, nn.Linear(1, 1, hasBias: false), ScalarType.BFloat16, CPU);
        var masterSteps = optim.SGD(master.parameters(), 1e-3);
        var aloneSteps = optim.SGD(alone.parameters(), 1e-3);
        for (var step = 0; step < 10; step++)
        {
            copy.LoadMasters();
            copy.ZeroGradients();
            copy.forward(ones(1, 1)).sum().backward();
            copy.StoreGradients();
            masterSteps.step();
            aloneSteps.zero_grad();
            alone.forward(ones(1, 1, dtype: ScalarType.BFloat16)).sum().backward();
            aloneSteps.step();
        }
        Assert.Equal(1.0f, alone.weight!.to(ScalarType.Float32).item<float>());  // every update rounded away
        Assert.Equal(0.99f, master.weight!.item<float>(), 1e-5f);
    }

    [Fact]
    public void A_replica_of_another_model_is_refused_naming_what_differs()
    {
        var error = Assert.Throws<ArgumentException>(() => new WorkingCopy(nn.Linear(3, 2), nn.Linear(3, 4), ScalarType.BFloat16, CPU));
        Assert.Contains("weight", error.Message);
    }
}
