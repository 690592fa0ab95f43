using AftDsl.Kernels;
using AftDsl.Reference;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Layers;

/// <summary>The generated AFT-local, AFT-simple and AFT-conv layers, compiled through the analyzer as in a user's project.</summary>
public sealed class MixerLayerTests
{
    static Tensor Parameter(nn.Module module, string name) => module.named_parameters().Single(p => p.name == name).parameter;

    static Tensor Project(nn.Module layer, string name, Tensor x) =>
        nn.functional.linear(x, Parameter(layer, name + ".weight"), Parameter(layer, name + ".bias"));

    static Tensor AroundKernel(nn.Module layer, Tensor x, Func<Tensor, Tensor, Tensor, Tensor> mix) =>
        Project(layer, "out_proj", mix(Project(layer, "q_proj", x), Project(layer, "k_proj", x), Project(layer, "v_proj", x)));

    [Fact]
    public void Local_layer_is_the_projections_around_eq4()
    {
        torch.manual_seed(1);
        var layer = new TinyLocalMixer();
        layer.to(float64);
        var x = randn([2, 7, 4], dtype: float64);
        var u = Parameter(layer, "pos_u").narrow(0, 0, 7);
        var w = Parameter(layer, "pos_w").narrow(0, 0, 7);
        var expected = AroundKernel(layer, x, (q, k, v) => AftNaive.Local(q, k, v, u.matmul(w.t()), 2, causal: false));
        TensorAssert.Close(expected, layer.forward(x), 1e-10);
    }

    [Fact]
    public void Simple_layer_is_the_projections_around_eq5()
    {
        torch.manual_seed(2);
        var layer = new SimpleAtConstruction(dim: 5);
        layer.to(float64);
        var x = randn([2, 9, 5], dtype: float64);
        TensorAssert.Close(AroundKernel(layer, x, (q, k, v) => AftNaive.Simple(q, k, v, causal: false)), layer.forward(x), 1e-10);
        Assert.Equal(3, SimpleAtConstruction.HiddenDim);
    }

    [Fact]
    public void Conv_layer_is_the_projections_around_eq6_once_trained_away_from_zero()
    {
        torch.manual_seed(3);
        var layer = new GridMixer(dim: 6);
        layer.to(float64);
        using (no_grad())
        {
            Parameter(layer, "pos_gamma").copy_(tensor(new[] { 1.5, -0.5 }, dtype: float64));
            Parameter(layer, "pos_beta").copy_(tensor(new[] { 0.2, 0.1 }, dtype: float64));
        }
        var x = randn([2, 4, 5, 6], dtype: float64);
        var kernel = AftConv.Reparameterise(Parameter(layer, "pos_w"), Parameter(layer, "pos_gamma"), Parameter(layer, "pos_beta"));
        var expected = AroundKernel(layer, x, (q, k, v) => AftNaive.Conv(q, k, v, kernel, causal: false));
        TensorAssert.Close(expected, layer.forward(x), 1e-10);
    }

    [Fact]
    public void A_new_conv_layer_is_aft_simple_with_one_key_per_head()
    {
        torch.manual_seed(4);
        var layer = new GridMixer(dim: 6);
        layer.to(float64);
        var x = randn([1, 3, 4, 6], dtype: float64);
        var expected = AroundKernel(layer, x, (q, k, v) =>
            AftNaive.Simple(q.reshape(1, 12, 6), k.reshape(1, 12, 2).repeat_interleave(3, 2), v.reshape(1, 12, 6), causal: false).reshape(1, 3, 4, 6));
        TensorAssert.Close(expected, layer.forward(x), 1e-10);
    }

    [Fact]
    public void A_conv_layer_without_a_fixed_grid_runs_on_any_grid()
    {
        var layer = new GridMixer(dim: 4);
        foreach (var (h, w) in new[] { (3, 3), (8, 5), (1, 12) })
            Assert.Equal(new long[] { 2, h, w, 4 }, layer.forward(randn(2, h, w, 4)).shape);
    }

    [Fact]
    public void A_fixed_grid_is_enforced_with_a_clear_message()
    {
        var layer = new FixedGridMixer();
        Assert.Equal(new long[] { 1, 3, 4, 4 }, layer.forward(randn(1, 3, 4, 4)).shape);
        var error = Assert.Throws<AftShapeException>(() => layer.forward(randn(1, 4, 4, 4)));
        Assert.StartsWith("AftConv 'FixedGridMixer': the grid is 4×4, but the layer declares GridHeight = 3, GridWidth = 4", error.Message);
        Assert.Contains("Expected [B, 3, 4, 4] (a channels-last grid); got [1, 4, 4, 4].", error.Message);
    }

    [Fact]
    public void A_channels_first_image_is_recognised()
    {
        var error = Assert.Throws<AftShapeException>(() => new GridMixer(dim: 4).forward(randn(1, 4, 6, 6)));
        Assert.Contains("permute it with input.permute(0, 2, 3, 1)", error.Message);
    }

    [Fact]
    public void Heads_must_divide_a_width_given_at_construction()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new GridMixer(dim: 7));
        Assert.Contains("AftConv 'GridMixer': heads (2) must divide dim (7): 7 / 2 = 3.5. Nearest dims divisible by 2: 6 or 8.", error.Message);
    }

    [Fact]
    public void Parameter_counts_equal_torchsharps()
    {
        Assert.Equal(CausalLocalMixer.ParameterCount, new CausalLocalMixer().parameters().Sum(p => p.numel()));
        Assert.Equal(TinyLocalMixer.ParameterCount, new TinyLocalMixer().parameters().Sum(p => p.numel()));
        Assert.Equal(CausalSimpleMixer.ParameterCount, new CausalSimpleMixer().parameters().Sum(p => p.numel()));
        Assert.Equal(FixedGridMixer.ParameterCount, new FixedGridMixer().parameters().Sum(p => p.numel()));
        Assert.Equal(CausalConvMixer.ParameterCount, new CausalConvMixer().parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Conv_state_dict_names_and_initial_values()
    {
        var state = new FixedGridMixer().state_dict();
        Assert.Equal(
            ["k_proj.bias", "k_proj.weight", "out_proj.bias", "out_proj.weight", "pos_beta", "pos_gamma", "pos_w", "q_proj.bias", "q_proj.weight", "v_proj.bias", "v_proj.weight"],
            state.Keys.Order());
        Assert.Equal(new long[] { 2, 3, 3 }, state["pos_w"].shape);
        Assert.Equal(new long[] { 2, 4 }, state["k_proj.weight"].shape);
        Assert.Equal(0, state["pos_gamma"].abs().sum().item<float>());
        Assert.Equal(0, state["pos_beta"].abs().sum().item<float>());
    }

    [Theory]
    [InlineData("local")]
    [InlineData("simple")]
    [InlineData("conv")]
    public void Causal_layers_ignore_later_inputs_bit_for_bit(string kind)
    {
        torch.manual_seed(5);
        nn.Module<Tensor, Tensor> layer = kind switch
        {
            "local" => new CausalLocalMixer(),
            "simple" => new CausalSimpleMixer(),
            _ => new CausalConvMixer(),
        };
        var width = kind == "conv" ? 4 : 8;
        var x = randn(2, 30, width);
        var before = layer.forward(x);
        foreach (var t in new[] { 0, 9, 28 })
        {
            var changed = x.clone();
            changed.narrow(1, t + 1, 29 - t).copy_(randn(2, 29 - t, width) * 50);
            TensorAssert.BitIdentical(before.narrow(1, 0, t + 1), layer.forward(changed).narrow(1, 0, t + 1), $"positions ≤ {t}");
        }
    }

    [Theory]
    [InlineData("local")]
    [InlineData("simple")]
    [InlineData("conv")]
    public void Input_and_parameter_gradients_match_central_finite_differences(string kind)
    {
        torch.manual_seed(6);
        nn.Module<Tensor, Tensor> layer = kind switch
        {
            "local" => new TinyLocalMixer(),
            "simple" => new SimpleAtConstruction(dim: 4),
            _ => new GridMixer(dim: 4),
        };
        layer.to(float64);
        if (kind == "conv")
            using (no_grad()) Parameter(layer, "pos_gamma").fill_(0.7);     // away from 0, so every kernel parameter matters
        long[] shape = kind == "conv" ? [1, 3, 3, 4] : [2, 5, 4];
        var x = randn(shape, dtype: float64).requires_grad_();
        var weights = randn(shape, dtype: float64);
        Tensor Loss() => (layer.forward(x) * weights).sum();

        Loss().backward();
        TensorAssert.Close(FiniteDifferences.Gradient(() => Loss().item<double>(), x), x.grad!, 1e-7, "∂L/∂input");
        foreach (var (name, parameter) in layer.named_parameters())
            TensorAssert.Close(FiniteDifferences.Gradient(() => Loss().item<double>(), parameter), parameter.grad!, 1e-7, $"∂L/∂{name}");
    }
}
