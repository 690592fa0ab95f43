using AftDsl.Kernels;
using AftDsl.Kernels.Cpu;
using AftDsl.Tests.Kernels.Cpu;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels;

/// <summary>
/// AFT-conv with window connectivity (w = −∞ outside the window) on the libtorch-operator and fused CPU paths,
/// against <see cref="WindowConvReference"/>: outputs and every gradient, sequences (causal or not) and grids.
/// </summary>
public sealed class AftConvWindowTests
{
    static Tensor[] Inputs(long batch, long[] grid, long heads, long width, long size, ulong seed)
    {
        var generator = new Generator(seed);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator);
        long[] kernel = grid.Length == 1 ? [heads, size] : [heads, size, size];
        return [Draw([batch, .. grid, width]), Draw([batch, .. grid, heads]), Draw([batch, .. grid, width]), Draw(kernel)];
    }

    static Tensor Window(Tensor[] x, bool causal) => AftConv.Apply(x[0], x[1], x[2], x[3], causal, AftConvConnectivity.Window);

    public static TheoryData<ConvFullPath, long[], long, bool> Cases()
    {
        var data = new TheoryData<ConvFullPath, long[], long, bool>();
        foreach (var path in new[] { ConvFullPath.Torch, ConvFullPath.Cpu })
        {
            data.Add(path, [9], 3, false);
            data.Add(path, [10], 4, false);      // even kernel: PyTorch's asymmetric "same"
            data.Add(path, [5], 7, false);       // kernel wider than the sequence
            data.Add(path, [9], 4, true);
            data.Add(path, [4], 6, true);
            data.Add(path, [5, 6], 3, false);
            data.Add(path, [4, 7], 5, false);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64_outputs_and_gradients_match_the_window_only_sums(ConvFullPath path, long[] grid, long size, bool causal)
    {
        var x = Inputs(2, grid, heads: 2, width: 6, size, seed: 31);
        using var forced = ConvFullPaths.Force(path);
        GradientCheck.Matches(y => Window(y, causal), y => WindowConvReference.Apply(y[0], y[1], y[2], y[3], causal), x, ["Q", "K", "V", "w"], 1e-9);
    }

    [Theory]
    [InlineData(ConvFullPath.Torch, 1)]
    [InlineData(ConvFullPath.Cpu, 1)]
    [InlineData(ConvFullPath.Torch, 2)]
    [InlineData(ConvFullPath.Cpu, 2)]
    public void Float32_matches_the_float64_window_sums_within_1e_5(ConvFullPath path, int spatial)
    {
        long[] grid = spatial == 1 ? [11] : [5, 7];
        var x = Inputs(2, grid, heads: 2, width: 8, 3, seed: 32).Select(t => t.to(float32).to(float64)).ToArray();
        using var forced = ConvFullPaths.Force(path);
        var output = Window([.. x.Select(t => t.to(float32))], causal: false);
        Assert.Equal(ScalarType.Float32, output.dtype);
        GradientCheck.Relative(WindowConvReference.Apply(x[0], x[1], x[2], x[3], causal: false), output.to(float64), 1e-5, "output");
    }

    [Theory]
    [InlineData(ConvFullPath.Torch)]
    [InlineData(ConvFullPath.Cpu)]
    public void A_window_that_covers_the_whole_grid_gives_the_global_result(ConvFullPath path)
    {
        // Every source is in every window: nothing lies outside, so the two connectivities agree.
        var x = Inputs(2, [3, 3], heads: 2, width: 4, 7, seed: 33);
        using var forced = ConvFullPaths.Force(path);
        GradientCheck.Relative(AftConv.Apply(x[0], x[1], x[2], x[3]), Window(x, causal: false), 1e-12, "output");
    }

    [Theory]
    [InlineData(ConvFullPath.Torch)]
    [InlineData(ConvFullPath.Cpu)]
    public void A_source_outside_the_window_changes_no_output(ConvFullPath path)
    {
        // Global connectivity sees it through the global sums; window connectivity must not.
        const long length = 12, far = 11;
        var x = Inputs(1, [length], heads: 2, width: 4, 3, seed: 34);
        using var forced = ConvFullPaths.Force(path);
        var changed = x.Select(t => t.clone()).ToArray();
        changed[1][0, far].add_(5);
        changed[2][0, far].mul_(-3);
        var reach = length - 3;                                                  // positions 0 … far − 2 do not hold far
        // Not bit for bit: the keys' shift is their maximum over the whole input, and it cancels only to rounding.
        GradientCheck.Relative(Window(x, false).narrow(1, 0, reach), Window(changed, false).narrow(1, 0, reach), 1e-14, "window outputs");
        Assert.False(AftConv.Apply(x[0], x[1], x[2], x[3]).narrow(1, 0, reach).allclose(AftConv.Apply(changed[0], changed[1], changed[2], changed[3]).narrow(1, 0, reach)),
            "the global outputs should change: the test would not see a connectivity that is ignored");
    }

    [Theory]
    [InlineData(ConvFullPath.Torch)]
    [InlineData(ConvFullPath.Cpu)]
    public void Very_negative_kernels_keep_the_window_finite(ConvFullPath path)
    {
        // ρ = max w (not max(0, max w)): a kernel of −200 everywhere would underflow e^{w} in float32.
        var x = Inputs(2, [4, 5], heads: 2, width: 4, 3, seed: 35);
        x[3] = x[3] - 200;
        using var forced = ConvFullPaths.Force(path);
        var output = Window([.. x.Select(t => t.to(float32))], causal: false);
        TensorAssert.AllFinite(output, "output");
        GradientCheck.Relative(WindowConvReference.Apply(x[0], x[1], x[2], x[3], causal: false), output.to(float64), 1e-5, "output");
    }

    [Fact]
    public void The_operator_path_repairs_windows_whose_keys_lie_far_below_the_grid_maximum()
    {
        // One key 150 above the rest: with the grid-wide shift, the other windows' sums underflow in float32,
        // and the exact rows take over.
        var x = Inputs(1, [4, 6], heads: 1, width: 2, 3, seed: 36);
        x[1][0, 0, 0].fill_(150.0);
        using var forced = ConvFullPaths.Force(ConvFullPath.Torch);
        var output = Window([.. x.Select(t => t.to(float32))], causal: false);
        TensorAssert.AllFinite(output, "output");
        GradientCheck.Relative(WindowConvReference.Apply(x[0], x[1], x[2], x[3], causal: false), output.to(float64), 1e-5, "output");
    }
}
