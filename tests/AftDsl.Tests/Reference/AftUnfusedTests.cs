using AftDsl.Reference;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Reference;

/// <summary>The benchmark's autograd peers compute the same functions as the paper's equations.</summary>
public sealed class AftUnfusedTests
{
    static Tensor Draw(Generator g, params long[] shape) => randn(shape, dtype: float64, generator: g);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Full_matches_the_naive_reference(bool causal)
    {
        var g = new Generator(1);
        var (q, k, v, w) = (Draw(g, 2, 30, 4), Draw(g, 2, 30, 4), Draw(g, 2, 30, 4), Draw(g, 30, 30));
        TensorAssert.Close(AftNaive.Full(q, k, v, w, causal), AftUnfused.Full(q, k, v, w, causal), 1e-12);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Simple_matches_the_naive_reference(bool causal)
    {
        var g = new Generator(2);
        var (q, k, v) = (Draw(g, 2, 30, 4), Draw(g, 2, 30, 4), Draw(g, 2, 30, 4));
        TensorAssert.Close(AftNaive.Simple(q, k, v, causal), AftUnfused.Simple(q, k, v, causal), 1e-12);
    }

    [Theory]
    [InlineData(false, 3)]
    [InlineData(true, 3)]
    [InlineData(false, 40)]
    [InlineData(true, 40)]
    public void Local_matches_the_naive_reference(bool causal, long window)
    {
        var g = new Generator(3);
        var (q, k, v, u, w) = (Draw(g, 2, 150, 4), Draw(g, 2, 150, 4), Draw(g, 2, 150, 4), Draw(g, 160, 3), Draw(g, 160, 3));
        var bias = u.narrow(0, 0, 150).matmul(w.narrow(0, 0, 150).t());
        TensorAssert.Close(AftNaive.Local(q, k, v, bias, window, causal), AftUnfused.Local(q, k, v, u, w, window, causal), 1e-12);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Conv_matches_the_naive_reference(bool causal)
    {
        var g = new Generator(4);
        long[] grid = causal ? [20] : [5, 6];
        var (q, k, v) = (Draw(g, [2, .. grid, 6]), Draw(g, [2, .. grid, 2]), Draw(g, [2, .. grid, 6]));
        var w = causal ? Draw(g, 2, 4) : Draw(g, 2, 3, 3);
        TensorAssert.Close(AftNaive.Conv(q, k, v, w, causal), AftUnfused.Conv(q, k, v, w, causal), 1e-12);
    }
}
