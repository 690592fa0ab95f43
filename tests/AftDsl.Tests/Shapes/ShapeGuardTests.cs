using AftDsl.Tests.Layers;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Shapes;

public sealed class ShapeGuardTests
{
    static AftShapeException Rejects(nn.Module<Tensor, Tensor> layer, Tensor input) =>
        Assert.Throws<AftShapeException>(() => layer.forward(input));

    [Fact]
    public void A_sequence_longer_than_maxLength_names_layer_expected_shape_and_actual_shape()
    {
        var error = Rejects(new CausalMixer(), randn(2, 17, 8));
        Assert.Equal(
            "AftFull 'CausalMixer': T = 17 exceeds maxLength 16; split the sequence or declare a larger maxLength. " +
            "Expected [B, T, 8] with 1 ≤ T ≤ 16 (maxLength); got [2, 17, 8]. (Parameter 'input')",
            error.Message);
        Assert.Equal("AftFull 'CausalMixer'", error.Layer);
        Assert.Equal("[2, 17, 8]", error.Actual);
    }

    [Fact]
    public void A_wrong_feature_width_is_reported_against_dim()
    {
        var error = Rejects(new CausalMixer(), randn(2, 4, 9));
        Assert.StartsWith("AftFull 'CausalMixer': the feature dimension is 9, but the layer's Dim is 8.", error.Message);
        Assert.Contains("Expected [B, T, 8] with 1 ≤ T ≤ 16 (maxLength); got [2, 4, 9].", error.Message);
    }

    [Fact]
    public void A_missing_batch_dimension_suggests_unsqueeze()
    {
        var error = Rejects(new CausalMixer(), randn(4, 8));
        Assert.Contains("input must have 3 dimensions (batch, time, features), not 2.", error.Message);
        Assert.Contains("input.unsqueeze(0)", error.Message);
    }

    [Fact]
    public void An_empty_sequence_is_rejected()
    {
        var error = Rejects(new CausalMixer(), randn(2, 0, 8));
        Assert.Contains("the sequence is empty (T = 0).", error.Message);
    }

    [Fact]
    public void A_dtype_that_differs_from_the_parameters_says_how_to_convert()
    {
        var error = Rejects(new CausalMixer(), randn([2, 4, 8], dtype: float64));
        Assert.Contains("the input's dtype is Float64 but the layer's parameters are Float32", error.Message);
    }

    [Fact]
    public void A_width_bound_at_construction_is_enforced_at_run_time()
    {
        var error = Rejects(new WidthAtConstruction(dim: 24), randn(1, 3, 32));
        Assert.Contains("the feature dimension is 32, but the layer's Dim is 24.", error.Message);
        Assert.Contains("Expected [B, T, 24] with 1 ≤ T ≤ 1024 (maxLength)", error.Message);
    }
}
