using AftDsl.Kernels;
using AftDsl.Reference;
using AftDsl.Tests.Kernels;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Layers;

/// <summary>
/// The generated AFT-conv layers with the two options of the ablation: <c>Reparameterise = false</c> (the parameter
/// pos_w is the kernel) and <c>Connectivity = Window</c> (each position mixes its window only).
/// </summary>
public sealed class ConvOptionsLayerTests
{
    static Tensor Parameter(nn.Module module, string name) => module.named_parameters().Single(p => p.name == name).parameter;

    static Tensor Project(nn.Module layer, string name, Tensor x) =>
        nn.functional.linear(x, Parameter(layer, name + ".weight"), Parameter(layer, name + ".bias"));

    static Tensor AroundKernel(nn.Module layer, Tensor x, Func<Tensor, Tensor, Tensor, Tensor> mix) =>
        Project(layer, "out_proj", mix(Project(layer, "q_proj", x), Project(layer, "k_proj", x), Project(layer, "v_proj", x)));

    [Fact]
    public void A_raw_kernel_layer_has_pos_w_only_and_it_starts_at_zero()
    {
        var layer = new RawKernelGridMixer(dim: 4);
        var state = layer.state_dict();
        Assert.Equal(["k_proj.bias", "k_proj.weight", "out_proj.bias", "out_proj.weight", "pos_w", "q_proj.bias", "q_proj.weight", "v_proj.bias", "v_proj.weight"],
            state.Keys.Order());
        Assert.Equal(new long[] { 2, 3, 3 }, state["pos_w"].shape);
        Assert.Equal(0, state["pos_w"].abs().sum().item<float>());
        // The same projections: 2 heads × 9 taps and γ, β against 2 heads × 3 taps alone.
        Assert.Equal(WindowGridMixer.ParameterCount - 2 * 9 - 2 * 2, CausalWindowRawConvMixer.ParameterCount - 2 * 3);
        Assert.Equal(CausalWindowRawConvMixer.ParameterCount, new CausalWindowRawConvMixer().parameters().Sum(p => p.numel()));
        Assert.Equal(WindowGridMixer.ParameterCount, new WindowGridMixer().parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void A_new_raw_kernel_layer_is_aft_simple_with_one_key_per_head()
    {
        torch.manual_seed(11);
        var layer = new RawKernelGridMixer(dim: 6);
        layer.to(float64);
        var x = randn([1, 3, 4, 6], dtype: float64);
        var expected = AroundKernel(layer, x, (q, k, v) =>
            AftNaive.Simple(q.reshape(1, 12, 6), k.reshape(1, 12, 2).repeat_interleave(3, 2), v.reshape(1, 12, 6), causal: false).reshape(1, 3, 4, 6));
        TensorAssert.Close(expected, layer.forward(x), 1e-10);
    }

    [Fact]
    public void The_raw_kernel_is_the_kernel_and_takes_its_gradient()
    {
        torch.manual_seed(12);
        var layer = new RawKernelGridMixer(dim: 6);
        layer.to(float64);
        var w = Parameter(layer, "pos_w");
        using (no_grad()) w.copy_(randn(w.shape, dtype: float64));
        var x = randn([2, 4, 5, 6], dtype: float64);
        var upstream = randn([2, 4, 5, 6], dtype: float64);

        var expected = AroundKernel(layer, x, (q, k, v) => AftNaive.Conv(q, k, v, w, causal: false));
        var expectedGrad = autograd.grad([expected], [w], [upstream])[0];
        var output = layer.forward(x);
        TensorAssert.Close(expected, output, 1e-10);
        output.backward([upstream]);
        Assert.NotNull(w.grad);
        Assert.True(w.grad!.abs().max().item<double>() > 1e-3, "pos_w receives a gradient");
        TensorAssert.Close(expectedGrad, w.grad!, 1e-9, "∂L/∂pos_w");
    }

    [Fact]
    public void A_window_layer_mixes_each_window_only()
    {
        torch.manual_seed(13);
        var layer = new WindowGridMixer();
        layer.to(float64);
        using (no_grad())
        {
            Parameter(layer, "pos_gamma").copy_(tensor(new[] { 1.5, -0.5 }, dtype: float64));
            Parameter(layer, "pos_beta").copy_(tensor(new[] { 0.2, 0.1 }, dtype: float64));
        }
        var x = randn([2, 4, 5, 4], dtype: float64);
        var kernel = AftConv.Reparameterise(Parameter(layer, "pos_w"), Parameter(layer, "pos_gamma"), Parameter(layer, "pos_beta"));
        var expected = AroundKernel(layer, x, (q, k, v) => WindowConvReference.Apply(q, k, v, kernel, causal: false));
        TensorAssert.Close(expected, layer.forward(x), 1e-10);
    }

    [Fact]
    public void A_causal_window_layer_decodes_step_by_step_as_its_forward()
    {
        torch.manual_seed(14);
        var layer = new CausalWindowRawConvMixer();
        layer.to(float64);
        var w = Parameter(layer, "pos_w");
        using (no_grad()) w.copy_(randn(w.shape, dtype: float64));
        var x = randn([3, 9, 4], dtype: float64);
        var forward = layer.forward(x);
        TensorAssert.Close(AroundKernel(layer, x, (q, k, v) => WindowConvReference.Apply(q, k, v, w, causal: true)), forward, 1e-10);
        using var state = layer.BeginDecoding(3);
        var stepped = stack(Enumerable.Range(0, 9).Select(t => layer.Step(x.select(1, t), state)).ToArray(), 1);
        TensorAssert.Close(forward, stepped, 1e-10);
    }
}
