using AftDsl.Initialization;
using AftDsl.Tests.Support;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Layers;

public sealed class AftFullLayerTests
{
    static Tensor Parameter(nn.Module module, string name) => module.named_parameters().Single(p => p.name == name).parameter;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_is_the_projections_around_eq2_as_an_explicit_sum(bool causal)
    {
        torch.manual_seed(7);
        nn.Module<Tensor, Tensor> layer = causal ? new TinyCausalMixer() : new TinyMixer();
        layer.to(float64);
        var x = randn(2, 5, 4, dtype: float64);

        Tensor Project(string name) => nn.functional.linear(x, Parameter(layer, name + ".weight"), Parameter(layer, name + ".bias"));
        var (q, k, v) = (Project("q_proj"), Project("k_proj"), Project("v_proj"));
        var w = Parameter(layer, "pos_u").narrow(0, 0, 5).matmul(Parameter(layer, "pos_w").narrow(0, 0, 5).t());
        var mixed = AftFullReference.ExplicitSum(Arrays.Flat(q), Arrays.Flat(k), Arrays.Flat(v), Arrays.Flat(w), 2, 5, 3, causal);
        var expected = nn.functional.linear(Arrays.FromFlat(mixed, [2, 5, 3]), Parameter(layer, "out_proj.weight"), Parameter(layer, "out_proj.bias"));

        TensorAssert.Close(expected, layer.forward(x), 1e-10);
    }

    [Fact]
    public void Output_has_the_input_shape_and_dtype()
    {
        var layer = new CausalMixer();
        var output = layer.forward(randn(3, 16, 8));
        Assert.Equal(new long[] { 3, 16, 8 }, output.shape);
        Assert.Equal(ScalarType.Float32, output.dtype);
    }

    [Fact]
    public void Width_given_at_construction_is_checked_and_used()
    {
        var layer = new WidthAtConstruction(dim: 24);
        Assert.Equal(24, layer.Dim);
        Assert.Equal(24, layer.HiddenDim);
        Assert.Equal(new long[] { 2, 7, 24 }, layer.forward(randn(2, 7, 24)).shape);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new WidthAtConstruction(dim: 0));
        Assert.Contains("AftFull 'WidthAtConstruction': dim must be positive, got 0.", error.Message);
    }

    [Fact]
    public void Constants_describe_the_declaration()
    {
        Assert.Equal(16, CausalMixer.MaxLength);
        Assert.Equal(8, CausalMixer.Dim);
        Assert.Equal(8, CausalMixer.HiddenDim);
        Assert.Equal(4, CausalMixer.FactorRank);
        Assert.True(CausalMixer.Causal);
        Assert.False(BidirectionalMixer.Causal);
        Assert.Equal(128, WidthAtConstruction.FactorRank);
        Assert.Equal("[B, T, 8] with 1 ≤ T ≤ 16", CausalMixer.InputShape);
        Assert.Equal("[B, T, Dim] with 1 ≤ T ≤ 1024", WidthAtConstruction.InputShape);
        Assert.Equal(12, Enclosing.NestedMixer.HiddenDim);
    }

    [Fact]
    public void Parameter_count_constant_equals_torchsharps_count()
    {
        Assert.Equal(CausalMixer.ParameterCount, new CausalMixer().parameters().Sum(p => p.numel()));
        Assert.Equal(TinyMixer.ParameterCount, new TinyMixer().parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void State_dict_names_are_stable()
    {
        var names = new TinyMixer().state_dict().Keys.Order();
        Assert.Equal(
            ["k_proj.bias", "k_proj.weight", "out_proj.bias", "out_proj.weight", "pos_u", "pos_w", "q_proj.bias", "q_proj.weight", "v_proj.bias", "v_proj.weight"],
            names);
        Assert.Equal(new long[] { 6, 2 }, new TinyMixer().state_dict()["pos_u"].shape);
        Assert.Equal(new long[] { 3, 4 }, new TinyMixer().state_dict()["q_proj.weight"].shape);
    }

    [Fact]
    public void Position_bias_factors_start_from_normal_with_variance_1e_minus_2()
    {
        torch.manual_seed(11);
        var layer = new WidthAtConstruction(dim: 8);
        foreach (var name in new[] { "pos_u", "pos_w" })
        {
            var factor = Parameter(layer, name);
            Assert.Equal(new long[] { 1024, 128 }, factor.shape);
            // 131,072 draws: the standard error of the std is 0.1/√(2·131072) ≈ 2e-4.
            Assert.InRange(factor.std().item<float>(), PositionBiasInit.FactorStd - 0.002, PositionBiasInit.FactorStd + 0.002);
            Assert.InRange(factor.mean().item<float>(), -0.002, 0.002);
        }
    }

    [Fact]
    public void Initialisation_is_deterministic_under_manual_seed()
    {
        torch.manual_seed(5);
        var first = new CausalMixer().parameters().Select(p => p.clone()).ToList();
        torch.manual_seed(5);
        var second = new CausalMixer().parameters().ToList();
        Assert.All(first.Zip(second), pair => TensorAssert.BitIdentical(pair.First, pair.Second, "parameter"));
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Causal_layer_output_at_t_ignores_inputs_after_t_bit_for_bit(ScalarType dtype)
    {
        torch.manual_seed(3);
        var layer = new CausalMixer();
        layer.to(dtype);
        var x = randn([2, 16, 8], dtype: dtype);
        var before = layer.forward(x);
        for (var t = 0; t < 15; t++)
        {
            var changed = x.clone();
            changed.narrow(1, t + 1, 15 - t).copy_(randn([2, 15 - t, 8], dtype: dtype) * 100);
            TensorAssert.BitIdentical(before.narrow(1, 0, t + 1), layer.forward(changed).narrow(1, 0, t + 1), $"positions ≤ {t}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Keys_at_1e4_and_biases_at_50_give_finite_outputs(bool causal)
    {
        torch.manual_seed(9);
        nn.Module<Tensor, Tensor> layer = causal ? new CausalMixer() : new BidirectionalMixer();
        using (no_grad())
        {
            // w[t, t'] = pos_u[t]·pos_w[t'] = ±50: one rank carries ±√50 in each factor.
            var signs = randn(16).sign();
            Parameter(layer, "pos_u").zero_().select(1, 0).copy_(signs * Math.Sqrt(50));
            Parameter(layer, "pos_w").zero_().select(1, 0).copy_(randn(16).sign() * Math.Sqrt(50));
            Parameter(layer, "k_proj.bias").zero_();   // K = x·Wkᵀ is then linear in x, and scaling x scales K exactly
        }
        var x = randn(2, 16, 8);
        var keys = nn.functional.linear(x, Parameter(layer, "k_proj.weight"), Parameter(layer, "k_proj.bias"));
        x = x * (1e4 / keys.abs().max().item<float>());
        var reached = nn.functional.linear(x, Parameter(layer, "k_proj.weight"), Parameter(layer, "k_proj.bias")).abs().max().item<float>();
        Assert.InRange(reached, 0.999e4, 1.001e4);

        TensorAssert.AllFinite(layer.forward(x), "output");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Input_and_parameter_gradients_match_central_finite_differences(bool causal)
    {
        torch.manual_seed(13);
        nn.Module<Tensor, Tensor> layer = causal ? new TinyCausalMixer() : new TinyMixer();
        layer.to(float64);
        var x = randn([2, 5, 4], dtype: float64).requires_grad_();
        var weights = randn([2, 5, 4], dtype: float64);
        Tensor Loss() => (layer.forward(x) * weights).sum();

        Loss().backward();
        TensorAssert.Close(FiniteDifferences.Gradient(() => Loss().item<double>(), x), x.grad!, 1e-8, "∂L/∂input");
        foreach (var (name, parameter) in layer.named_parameters())
        {
            // Only the first 5 rows of pos_u and pos_w take part in a sequence of length 5; the rest get zeros.
            TensorAssert.Close(FiniteDifferences.Gradient(() => Loss().item<double>(), parameter), parameter.grad!, 1e-8, $"∂L/∂{name}");
        }
    }
}
