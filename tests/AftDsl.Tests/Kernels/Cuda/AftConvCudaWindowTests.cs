using AftDsl.Kernels;
using AftDsl.Kernels.Cuda;
using AftDsl.Tests.Cuda.Emulation;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels.Cuda;

/// <summary>
/// The AFT-conv CUDA kernels with window connectivity (compiled with WINDOW = 1) under the host emulation,
/// against <see cref="WindowConvReference"/>: sequences with tiles of 4 rows (several tiles), causal or not,
/// and grids, outputs and every gradient, float32 and bfloat16.
/// </summary>
public sealed class AftConvCudaWindowTests : IDisposable
{
    readonly IDisposable tiles = CudaKernelChecks.SmallTiles(new BandTiles(Tile: 4, Rows: 2, BackwardRows: 4, BackwardThreadRows: 2, GridRun: 3, GridRunsPerBlock: 2));
    readonly IDisposable cuda = EmulatedCuda.Use();

    public void Dispose()
    {
        cuda.Dispose();
        tiles.Dispose();
    }

    static Tensor[] Inputs(long batch, long[] grid, long heads, long width, long size, ulong seed)
    {
        var generator = new Generator(seed);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator);
        long[] kernel = grid.Length == 1 ? [heads, size] : [heads, size, size];
        return [Draw([batch, .. grid, width]), Draw([batch, .. grid, heads]), Draw([batch, .. grid, width]), Draw(kernel)];
    }

    public static TheoryData<long[], long, bool, long> Shapes => new()
    {
        { [9], 3, false, 2 },
        { [10], 4, false, 1 },      // even kernel: PyTorch's asymmetric "same"
        { [14], 3, true, 2 },       // several tiles, a partial last one
        { [9], 12, true, 1 },       // kernel wider than the sequence
        { [5, 7], 3, false, 2 },
        { [4, 5], 9, false, 1 },    // 81 taps: ∂w in shared memory rather than registers
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float32_outputs_and_gradients_match_the_window_only_sums(long[] grid, long size, bool causal, long heads)
    {
        CudaKernelChecks.GradientsMatch(
            y => AftConv.Apply(y[0], y[1], y[2], y[3], causal, AftConvConnectivity.Window),
            y => WindowConvReference.Apply(y[0], y[1], y[2], y[3], causal),
            Inputs(2, grid, heads, width: 4 * heads, size, seed: 41), ["Q", "K", "V", "w"], float32, 2e-5);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    public void Bfloat16_gradients_are_close(bool causal, int spatial)
    {
        long[] grid = spatial == 1 ? [11] : [5, 6];
        CudaKernelChecks.GradientsMatch(
            y => AftConv.Apply(y[0], y[1], y[2], y[3], causal, AftConvConnectivity.Window),
            y => WindowConvReference.Apply(y[0], y[1], y[2], y[3], causal),
            Inputs(2, grid, heads: 2, width: 8, 3, seed: 42), ["Q", "K", "V", "w"], bfloat16, 2e-2);
    }
}
