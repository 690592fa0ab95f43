using AftDsl.Cuda;
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
/// The AFT-conv CUDA kernels (aft_conv.cu and their host code) under the host emulation, against the float64
/// per-head naive reference: sequences with tiles of 4 rows (several tiles, a partial last one), odd grids with
/// runs of 3 positions a thread and 2 runs a backward block (rows of several runs and blocks, partial last ones).
/// </summary>
public sealed class AftConvCudaTests : IDisposable
{
    readonly IDisposable tiles = CudaKernelChecks.SmallTiles(new BandTiles(Tile: 4, Rows: 2, BackwardRows: 4, BackwardThreadRows: 2, GridRun: 3, GridRunsPerBlock: 2));
    readonly IDisposable cuda = EmulatedCuda.Use();

    public void Dispose()
    {
        cuda.Dispose();
        tiles.Dispose();
    }

    /// <summary>Q, K, V channels-last on <paramref name="grid"/> and kernel biases w <c>[heads, s(, s)]</c>, float64.</summary>
    static Tensor[] Inputs(long batch, long[] grid, long heads, long width, long size, ulong seed)
    {
        var generator = new Generator(seed);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator);
        long[] Shape(long channels) => [batch, .. grid, channels];
        long[] kernel = grid.Length == 1 ? [heads, size] : [heads, size, size];
        return [Draw(Shape(width)), Draw(Shape(heads)), Draw(Shape(width)), Draw(kernel)];
    }

    static Tensor Run(Tensor[] x, bool causal) => AftConv.Apply(x[0], x[1], x[2], x[3], causal);

    static Tensor Reference(Tensor[] x, bool causal) => AftNaive.Conv(x[0], x[1], x[2], x[3], causal);

    static Tensor[] As(Tensor[] x, ScalarType dtype) => [.. x.Select(t => t.to(dtype))];

    static Tensor[] Rounded(Tensor[] x, ScalarType dtype) => [.. x.Select(t => t.to(dtype).to(float64))];

    public static TheoryData<long[], long, bool, long> Shapes => new()
    {
        { [9], 1, false, 1 },
        { [9], 3, false, 2 },
        { [14], 4, false, 1 },      // even kernel: PyTorch's asymmetric "same"; several tiles, a partial last one
        { [9], 12, false, 3 },      // kernel wider than the sequence
        { [14], 3, true, 2 },
        { [9], 4, true, 1 },
        { [9], 12, true, 3 },
        { [5, 7], 3, false, 2 },    // odd grid
        { [6, 4], 4, false, 1 },
        { [3, 13], 3, false, 2 },   // rows of 5 runs: three backward blocks a row, the last one with one run of one position
        { [3, 3], 7, false, 3 },    // kernel larger than the grid
        { [4, 5], 9, false, 2 },    // 81 taps: ∂w in shared memory rather than registers
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float32_matches_float64_within_1e_5_relative(long[] grid, long size, bool causal, long heads)
    {
        var x = Inputs(2, grid, heads, width: 6 * heads, size, seed: 1);
        var output = Run(As(x, float32), causal);
        Assert.Equal(ScalarType.Float32, output.dtype);
        GradientCheck.Relative(Reference(Rounded(x, float32), causal), output.to(float64), 1e-5, "output");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float32_gradients_match_autograd_through_the_naive_reference(long[] grid, long size, bool causal, long heads)
    {
        CudaKernelChecks.GradientsMatch(
            y => AftConv.Apply(y[0], y[1], y[2], y[3], causal),
            y => AftNaive.Conv(y[0], y[1], y[2], y[3], causal),
            Inputs(2, grid, heads, width: 4 * heads, size, seed: 3), ["Q", "K", "V", "w"], float32, 2e-5);
    }

    [Fact]
    public void A_grid_taller_than_a_launch_extent_is_refused_with_its_size()
    {
        var x = As(Inputs(1, [65536, 1], heads: 1, width: 2, 1, seed: 9), float32);
        var error = Assert.Throws<CudaException>(() => Run(x, causal: false));
        Assert.Contains("at most 65,535 rows and 65,535 batch elements; got 65,536 rows and 1", error.Message);
    }

    [Fact]
    public void Forty_channels_span_two_channel_blocks_with_heads_split_across_them()
    {
        foreach (var (grid, causal) in new (long[], bool)[] { ([10], true), ([3, 5], false) })
        {
            var x = Inputs(2, grid, heads: 5, width: 40, 3, seed: 2);
            CudaKernelChecks.GradientsMatch(
                y => AftConv.Apply(y[0], y[1], y[2], y[3], causal),
                y => AftNaive.Conv(y[0], y[1], y[2], y[3], causal),
                x, ["Q", "K", "V", "w"], float32, 2e-5);
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 2)]
    public void Bfloat16_outputs_are_at_output_rounding_and_gradients_close(bool causal, int spatial)
    {
        long[] grid = spatial == 1 ? [11] : [5, 7];
        var x = Inputs(2, grid, heads: 2, width: 8, 3, seed: 4);
        CudaKernelChecks.AtBfloat16Rounding(Reference(Rounded(x, bfloat16), causal), Run(As(x, bfloat16), causal));
        CudaKernelChecks.GradientsMatch(
            y => AftConv.Apply(y[0], y[1], y[2], y[3], causal),
            y => AftNaive.Conv(y[0], y[1], y[2], y[3], causal),
            x, ["Q", "K", "V", "w"], bfloat16, 2e-2);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(1e4)]
    public void Causal_outputs_at_t_ignore_inputs_after_t_bit_for_bit(double keyScale)
    {
        const long length = 14;
        var x = As(Inputs(2, [length], heads: 2, width: 6, 4, seed: 5), float32);
        x[1] *= keyScale;
        var before = Run(x, causal: true);
        foreach (var t in new long[] { 0, 3, 4, 9, 12 })
        {
            var later = length - t - 1;
            var noise = As(Inputs(2, [length], heads: 2, width: 6, 4, seed: 100 + (ulong)t), float32);
            var changed = x.Select(i => i.clone()).ToArray();
            for (var i = 0; i < 3; i++)
                changed[i].narrow(1, t + 1, later).copy_(noise[i].narrow(1, t + 1, later) * (i == 1 ? 1e3 * keyScale : 1e3));
            TensorAssert.BitIdentical(before.narrow(1, 0, t + 1), Run(changed, causal: true).narrow(1, 0, t + 1), $"positions ≤ {t}");
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 2)]
    public void Keys_up_to_1e4_give_finite_exact_outputs_and_finite_gradients(bool causal, int spatial)
    {
        long[] grid = spatial == 1 ? [13] : [5, 7];
        var x = Inputs(2, grid, heads: 2, width: 8, 3, seed: 6);
        x[1] = x[1] / x[1].abs().max() * 1e4;
        x[3] = x[3] * 5;
        TensorAssert.FiniteAndExact(As(x, float32), inputs => Run(inputs, causal),
            inputs => Reference(inputs.Select(i => i.to(float64)).ToArray(), causal), 1e-5);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 2)]
    public void A_NaN_reaches_no_other_batch_element_and_causal_no_earlier_position(bool causal, int spatial)
    {
        long[] grid = spatial == 1 ? [14] : [5, 7];
        const long position = 9;
        var clean = As(Inputs(2, grid, heads: 2, width: 6, 3, seed: 7), float32);
        var poisoned = clean.Select(t => t.clone()).ToArray();
        var flatKeys = poisoned[1].view(2, -1, 2);
        flatKeys[0, position, 1] = float.NaN;
        var (cleanOutput, cleanGrads) = OutputAndGradients(clean, causal);
        var (output, grads) = OutputAndGradients(poisoned, causal);
        TensorAssert.BitIdentical(cleanOutput[1], output[1], "the other batch element's output");
        TensorAssert.AllFinite(output[1], "the other batch element's output");
        for (var i = 0; i < 3; i++)
            TensorAssert.BitIdentical(cleanGrads[i][1], grads[i][1], $"the other batch element's gradient {i}");
        if (causal)
            TensorAssert.BitIdentical(cleanOutput[0].narrow(0, 0, position), output[0].narrow(0, 0, position), "earlier positions");
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, 2)]
    public void Forward_and_backward_leave_no_tensors_alive(bool causal, int spatial)
    {
        long[] grid = spatial == 1 ? [10] : [3, 4];
        var x = As(Inputs(2, grid, heads: 2, width: 4, 3, seed: 9), float32);
        LeakCheck.NoTensorsLeak(() =>
        {
            var leaves = x.Select(i => i.detach().requires_grad_()).ToArray();
            Run(leaves, causal).sum().backward();
        });
    }

    static (Tensor Output, Tensor[] Grads) OutputAndGradients(Tensor[] x, bool causal)
    {
        var leaves = x.Select(i => i.detach().clone().requires_grad_()).ToArray();
        var output = Run(leaves, causal);
        output.backward([ones_like(output)]);
        return (output.detach(), leaves.Select(l => l.grad!).ToArray());
    }
}
