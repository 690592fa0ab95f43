using AftDsl.Kernels;
using AftDsl.Kernels.Cuda;
using AftDsl.Reference;
using AftDsl.Tests.Cuda.Emulation;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels.Cuda;

/// <summary>
/// The band kernels (AFT-local, AFT-conv) with the tile sizes the GPU uses, not the small ones of the other
/// emulated tests: they once compiled with every tile size 0, which only NVRTC refused.
/// </summary>
public sealed class BandDefaultTilesTests : IDisposable
{
    readonly IDisposable cuda = EmulatedCuda.Use();

    public void Dispose() => cuda.Dispose();

    [Fact]
    public void Default_tiles_are_the_documented_ones()
    {
        Assert.Equal(new BandTiles(Tile: 16, Rows: 4, BackwardRows: 16, BackwardThreadRows: 4, ProductRows: 64, GroupElements: 1 << 24,
            ForwardRows: 64, ForwardThreadRows: 8, ForwardBandEntries: 32,
            CausalBackwardRows: 32, CausalBackwardThreadRows: 8, CausalBackwardEntries: 32, CausalBackwardBatches: 8,
            GridRun: 8, GridRunsPerBlock: 4), AftLocalCuda.Tiles);
    }

    /// <summary>
    /// The one-kernel causal backward with its GPU tiles: four ∂w sums a thread, three batch elements in one block, and
    /// a band of 5 or of 32 (the widest it takes; 33 takes the products).
    /// </summary>
    [Theory]
    [InlineData(5)]
    [InlineData(32)]
    [InlineData(33)]
    public void Causal_local_gradients_with_default_tiles_match_autograd(long window)
    {
        var generator = new Generator(8);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator);
        Tensor[] x = [Draw(3, 45, 6), Draw(3, 45, 6), Draw(3, 45, 6), Draw(48, 2), Draw(48, 2)];
        CudaKernelChecks.GradientsMatch(
            y => AftLocal.Apply(y[0], y[1], y[2], y[3], y[4], window, causal: true),
            y => AftNaive.Local(y[0], y[1], y[2], y[3].narrow(0, 0, 45).matmul(y[4].narrow(0, 0, 45).t()), window, causal: true),
            x, ["Q", "K", "V", "U", "W"], float32, 2e-5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Local_with_default_tiles_matches_float64(bool causal)
    {
        var generator = new Generator(5);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator);
        Tensor[] x = [Draw(1, 37, 6), Draw(1, 37, 6), Draw(1, 37, 6), Draw(40, 3), Draw(40, 3)];
        var reference = AftNaive.Local(x[0], x[1], x[2], x[3].narrow(0, 0, 37).matmul(x[4].narrow(0, 0, 37).t()), 5, causal);
        var output = AftLocal.Apply(x[0].to(float32), x[1].to(float32), x[2].to(float32), x[3].to(float32), x[4].to(float32), 5, causal);
        GradientCheck.Relative(reference, output.to(float64), 1e-5, "output");
    }

    /// <summary>Grids with the GPU's runs of 8 positions, 4 runs a backward block: a 7-wide row is one partial run, a 37-wide
    /// row two blocks, the second with one run of 5 positions; 7 × 7 taps keep ∂w in registers, 9 × 9 in shared memory.</summary>
    [Theory]
    [InlineData(7, 3)]
    [InlineData(37, 7)]
    [InlineData(37, 9)]
    public void Conv_grid_with_default_tiles_matches_autograd(long width, long size)
    {
        var generator = new Generator(6);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator);
        Tensor[] x = [Draw(2, 5, width, 4), Draw(2, 5, width, 2), Draw(2, 5, width, 4), Draw(2, size, size) * 0.5];
        CudaKernelChecks.GradientsMatch(
            y => AftConv.Apply(y[0], y[1], y[2], y[3]),
            y => AftNaive.Conv(y[0], y[1], y[2], y[3], causal: false),
            x, ["Q", "K", "V", "w"], float32, 2e-5);
    }

    [Fact]
    public void Conv_sequence_with_default_tiles_matches_float64()
    {
        var generator = new Generator(7);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator);
        Tensor[] x = [Draw(1, 37, 4), Draw(1, 37, 2), Draw(1, 37, 4), Draw(2, 5) * 0.5];
        var reference = AftNaive.Conv(x[0], x[1], x[2], x[3], causal: true);
        var output = AftConv.Apply(x[0].to(float32), x[1].to(float32), x[2].to(float32), x[3].to(float32), causal: true);
        GradientCheck.Relative(reference, output.to(float64), 1e-5, "output");
    }
}
