using AftDsl.Decoding;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Decoding;

/// <summary>StepLinear's C# loop (a few CPU rows) and its fallback give the layer's forward, for widths that fill no whole vector.</summary>
public sealed class StepLinearTests
{
    [Theory]
    [InlineData(1, 128, 128, true)]
    [InlineData(3, 37, 11, true)]                 // inputs and outputs with remainders after the vector and 4-row loops
    [InlineData(4, 8, 5, false)]                  // no bias
    [InlineData(6, 16, 9, true)]                  // more rows than the loop takes: the layer's forward
    public void A_step_linear_equals_the_layers_forward(long rows, long inputs, long outputs, bool hasBias)
    {
        using var scope = NewDisposeScope();
        foreach (var dtype in new[] { float64, float32 })
        {
            manual_seed(5);
            var layer = nn.Linear(inputs, outputs, hasBias: hasBias, dtype: dtype);
            var x = randn([rows, inputs], dtype: dtype);
            using var inference = no_grad();
            var expected = layer.forward(x);
            var actual = StepLinear.Forward(layer, x);
            Assert.Equal(expected.shape, actual.shape);
            StepExactnessTests.AssertRelativelyClose(expected, actual, dtype == float64 ? 1e-12 : 1e-6, $"{dtype} {rows}×{inputs}→{outputs}");
        }
    }

    [Fact]
    public void The_loop_reads_the_layers_current_weights()
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(8, 4);
        var x = randn(1, 8);
        using var inference = no_grad();
        var before = StepLinear.Forward(layer, x);
        layer.weight!.mul_(2);                                                  // an optimiser's in-place update
        StepExactnessTests.AssertRelativelyClose(layer.forward(x), StepLinear.Forward(layer, x), 1e-6, "after the update");
        Assert.False(before.allclose(StepLinear.Forward(layer, x)));
    }
}

/// <summary>StepNorm's and StepGelu's C# passes give libtorch's layer norm and exact GELU to float rounding.</summary>
public sealed class StepNormAndGeluTests
{
    [Theory]
    [InlineData(1, 128)]
    [InlineData(4, 37)]
    [InlineData(7, 16)]                           // more rows than the loop takes: the layer's forward
    public void A_step_norm_equals_the_layers_forward(long rows, long width)
    {
        using var scope = NewDisposeScope();
        foreach (var dtype in new[] { float64, float32 })
        {
            manual_seed(6);
            var layer = nn.LayerNorm(width, dtype: dtype);
            using (no_grad())
            {
                layer.weight!.normal_();
                layer.bias!.normal_();
            }
            var x = randn([rows, width], dtype: dtype) * 3 + 5;                      // an offset mean, as residual streams have
            using var inference = no_grad();
            StepExactnessTests.AssertRelativelyClose(layer.forward(x), StepNorm.Forward(layer, x), dtype == float64 ? 1e-12 : 1e-6, $"{dtype} {rows}×{width}");
        }
    }

    [Fact]
    public void The_C_sharp_gelu_is_the_exact_gelu_to_float32_rounding()
    {
        using var scope = NewDisposeScope();
        var x = linspace(-12, 12, 4001, dtype: float32).view(1, -1);              // tails, where erfc is tiny, and the middle
        Assert.True(StepGelu.Applies(x));
        // ½·x·erfc(−x/√2) in float64: libtorch's gelu, x·(1 + erf(x/√2))/2, cancels to 0 below x ≈ −8 even in float64.
        var x64 = x.to(float64);
        var expected = 0.5 * x64 * (x64 * -Math.Sqrt(0.5)).erfc();
        var actual = x.clone();
        StepGelu.InPlace(actual);
        var error = (actual.to(float64) - expected).abs();
        var bound = expected.abs() * 3e-7 + 1e-30;                                   // a few float32 roundings, relative
        var worst = (error / bound).argmax().item<long>();
        Assert.True(error.le(bound).all().item<bool>(), $"largest error {error.max().item<double>():E2}; worst at x = {x[0, worst].item<float>()}: {actual[0, worst].item<float>():E6} vs {expected[0, worst].item<double>():E6}");
        var rest = randn(1, 13);                                                     // a length that leaves a scalar tail
        var tail = rest.clone();
        StepGelu.InPlace(tail);
        StepExactnessTests.AssertRelativelyClose(nn.functional.gelu(rest.to(float64)), tail.to(float64), 3e-7, "tail");
    }
}
