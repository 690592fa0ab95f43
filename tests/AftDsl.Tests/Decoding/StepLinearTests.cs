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
