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
/// The CUDA AFT-simple kernels (aft_simple.cu and their host code) run under the host emulation on CPU tensors,
/// against float64 references and autograd. Small tiles (8 steps × 8 or 16 channels, 32 threads) make several
/// blocks, channel groups and partial tiles at sizes the emulation runs quickly.
/// </summary>
public sealed class AftSimpleCudaTests
{
    static readonly AftSimpleCuda.Tiles smallFloat32 = new(ChannelThreads: 8, Segments: 4, Run: 2, ChannelsPerThread: 1);
    static readonly AftSimpleCuda.Tiles smallBfloat16 = new(ChannelThreads: 8, Segments: 4, Run: 2, ChannelsPerThread: 2);

    /// <summary>bfloat16's unit roundoff: 8 significant bits, half an ulp is at most 2⁻⁸ of the value.</summary>
    static readonly double BfloatRounding = Math.Pow(2, -8);

    static IDisposable Emulated(ScalarType dtype) => Emulated(dtype == ScalarType.BFloat16 ? smallBfloat16 : smallFloat32);

    static IDisposable Emulated(AftSimpleCuda.Tiles tiles)
    {
        var cuda = EmulatedCuda.Use();
        var small = AftSimpleCuda.UseTiles(tiles);
        return new Both(small, cuda);
    }

    /// <summary>Inputs drawn in float64 and rounded to <paramref name="dtype"/>.</summary>
    static Tensor[] Inputs(long batch, long length, long width, ScalarType dtype, ulong seed)
    {
        var generator = new Generator(seed);
        return [.. Enumerable.Range(0, 3).Select(_ => randn([batch, length, width], dtype: float64, generator: generator).to(dtype))];
    }

    /// <summary>Eq. 5 as an explicit float64 sum over the inputs' exact values.</summary>
    static Tensor Reference(Tensor[] x, bool causal)
    {
        var exact = x.Select(t => t.to(float64)).ToArray();
        var (b, t, h) = ((int)x[0].shape[0], (int)x[0].shape[1], (int)x[0].shape[2]);
        var y = AftFullReference.ExplicitSumShifted(Arrays.Flat(exact[0]), Arrays.Flat(exact[1]), Arrays.Flat(exact[2]), new double[t * t], b, t, h, causal);
        return Arrays.FromFlat(y, x[0].shape);
    }

    static Tensor Run(Tensor[] x, bool causal)
    {
        using var cuda = Emulated(x[0].dtype);
        return AftSimple.Apply(x[0], x[1], x[2], causal);
    }

    /// <summary>|actual − expected| ≤ (rounding + 2e-6)·|expected| + 1e-6·max|expected| element-wise: one rounding to the output dtype.</summary>
    static void AtOutputRounding(Tensor expected, Tensor actual, double rounding, string what)
    {
        using var e = expected.to(float64);
        using var a = actual.to(float64);
        using var bound = e.abs() * (rounding + 2e-6) + 1e-6 * e.abs().max().item<double>();
        using var excess = (a - e).abs() - bound;
        var at = excess.argmax().item<long>();
        Assert.True(excess.max().item<double>() <= 0,
            $"{what}: at flat index {at} expected {e.flatten()[at].item<double>():R}, got {a.flatten()[at].item<double>():R}, beyond output rounding.");
    }

    [Theory]
    [InlineData(false, 2, 20, 12)]   // 3 tiles, the last partial; 2 channel groups, the second partial
    [InlineData(true, 2, 20, 12)]
    [InlineData(true, 1, 8, 8)]      // exactly one tile
    [InlineData(true, 3, 17, 5)]     // fewer channels than a tile
    [InlineData(false, 3, 1, 9)]
    public void Float32_matches_eq5_within_1e_5_relative(bool causal, int batch, int length, int width)
    {
        var x = Inputs(batch, length, width, float32, 1);
        var y = Run(x, causal);
        Assert.Equal(ScalarType.Float32, y.dtype);
        GradientCheck.Relative(Reference(x, causal), y.to(float64), 1e-5, "output");
        TensorAssert.Close(Reference(x, causal), y, 1e-5);
    }

    [Theory]
    [InlineData(false, 10)]
    [InlineData(true, 10)]
    [InlineData(true, 7)]            // odd width: no bfloat16 pairs
    [InlineData(false, 7)]
    public void Bfloat16_output_is_the_float64_result_at_output_rounding(bool causal, int width)
    {
        var x = Inputs(2, 21, width, bfloat16, 2);
        var y = Run(x, causal);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        AtOutputRounding(Reference(x, causal), y, BfloatRounding, "bfloat16 output");
    }

    [Fact]
    public void The_GPU_tile_sizes_give_the_same_results()
    {
        // 64-step tiles of 256 threads: two tiles, the second partial, one channel group.
        var x = Inputs(1, 70, 6, float32, 3);
        foreach (var causal in new[] { false, true })
        {
            using var cuda = EmulatedCuda.Use();
            GradientCheck.Relative(Reference(x, causal), AftSimple.Apply(x[0], x[1], x[2], causal).to(float64), 1e-5, $"output (causal {causal})");
        }
        var b = Inputs(1, 70, 6, bfloat16, 3);
        using (EmulatedCuda.Use())
            AtOutputRounding(Reference(b, true), AftSimple.Apply(b[0], b[1], b[2], causal: true), BfloatRounding, "bfloat16 output");
    }

    [Theory]
    [InlineData(ScalarType.Float32, 4, 12)]     // packed 16-byte loads, a partial channel group
    [InlineData(ScalarType.Float32, 4, 10)]     // width not a multiple of 4: element-wise loads
    [InlineData(ScalarType.BFloat16, 8, 24)]
    [InlineData(ScalarType.BFloat16, 4, 6)]
    public void Wide_channel_vectors_give_the_same_results(ScalarType dtype, int channelsPerThread, int width)
    {
        var tiles = new AftSimpleCuda.Tiles(ChannelThreads: 4, Segments: 8, Run: 2, ChannelsPerThread: channelsPerThread);
        var x = Inputs(2, 21, width, dtype, 14);
        var upstream = randn(x[0].shape, dtype: float64, generator: new Generator(15)).to(dtype);
        var exact = x.Select(t => t.to(float64).requires_grad_()).ToArray();
        AftNaive.Simple(exact[0], exact[1], exact[2], true).backward([upstream.to(float64)]);
        var (output, grads) = FusedGradients(x, upstream, causal: true, tiles);
        AtOutputRounding(Reference(x, true), output, dtype == ScalarType.BFloat16 ? BfloatRounding : 1e-6, "output");
        for (var i = 0; i < 3; i++)
            GradientCheck.Relative(exact[i].grad!, grads[i].to(float64), dtype == ScalarType.BFloat16 ? BfloatRounding : 1e-4, $"∂L/∂{"QKV"[i]}");
        var (nonCausal, _) = FusedGradients(x, upstream, causal: false, tiles);
        AtOutputRounding(Reference(x, false), nonCausal, dtype == ScalarType.BFloat16 ? BfloatRounding : 1e-6, "non-causal output");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Float32_gradients_match_float64_autograd_through_the_naive_reference(bool causal)
    {
        var x = Inputs(2, 19, 10, float32, 4);
        var upstream = randn(x[0].shape, dtype: float64, generator: new Generator(5));
        var (output, grads) = FusedGradients(x, upstream.to(float32), causal);
        var exact = x.Select(t => t.to(float64).requires_grad_()).ToArray();
        var expected = AftNaive.Simple(exact[0], exact[1], exact[2], causal);
        expected.backward([upstream]);
        GradientCheck.Relative(expected.detach(), output.to(float64), 1e-5, "output");
        string[] names = ["Q", "K", "V"];
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ScalarType.Float32, grads[i].dtype);
            GradientCheck.Relative(exact[i].grad!, grads[i].to(float64), 1e-4, $"∂L/∂{names[i]}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bfloat16_gradients_match_float64_autograd_at_bfloat16_precision(bool causal)
    {
        var x = Inputs(2, 19, 10, bfloat16, 6);
        var upstream = randn(x[0].shape, dtype: float64, generator: new Generator(7)).to(bfloat16);
        var (_, grads) = FusedGradients(x, upstream, causal);
        var exact = x.Select(t => t.to(float64).requires_grad_()).ToArray();
        AftNaive.Simple(exact[0], exact[1], exact[2], causal).backward([upstream.to(float64)]);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ScalarType.BFloat16, grads[i].dtype);
            GradientCheck.Relative(exact[i].grad!, grads[i].to(float64), Math.Pow(2, -8), $"∂L/∂{"QKV"[i]}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_sum_loss_hands_in_an_expanded_gradient_and_inputs_may_be_views(bool causal)
    {
        // y.sum().backward() passes a stride-0 gradient; transposed views are not contiguous.
        var x = Inputs(2, 12, 9, float32, 8).Select(t => t.transpose(1, 2).contiguous().transpose(1, 2)).ToArray();
        Assert.False(x[0].is_contiguous());
        var leaves = x.Select(t => t.detach().requires_grad_()).ToArray();
        using (Emulated(float32))
            AftSimple.Apply(leaves[0], leaves[1], leaves[2], causal).sum().backward();
        var exact = x.Select(t => t.to(float64).requires_grad_()).ToArray();
        AftNaive.Simple(exact[0], exact[1], exact[2], causal).sum().backward();
        for (var i = 0; i < 3; i++)
            GradientCheck.Relative(exact[i].grad!, leaves[i].grad!.to(float64), 1e-4, $"∂L/∂{"QKV"[i]}");
    }

    [Fact]
    public void Inputs_at_an_offset_that_breaks_vector_alignment_are_handled()
    {
        // Contiguous views starting one element into their storage: 4-byte, not 16-byte, aligned.
        var x = Inputs(2, 10, 8, float32, 16);
        var shifted = x.Select(t => cat([zeros(1), t.flatten()]).narrow(0, 1, t.NumberOfElements).view(t.shape)).ToArray();
        Assert.True(shifted[0].is_contiguous());
        var tiles = new AftSimpleCuda.Tiles(ChannelThreads: 4, Segments: 8, Run: 2, ChannelsPerThread: 4);
        foreach (var view in shifted) view.requires_grad_();
        Tensor output;
        using (Emulated(tiles))
        {
            output = AftSimple.Apply(shifted[0], shifted[1], shifted[2], causal: true);
            output.sum().backward();
        }
        GradientCheck.Relative(Reference(x, true), output.detach().to(float64), 1e-5, "output");
        var exact = x.Select(t => t.to(float64).requires_grad_()).ToArray();
        AftNaive.Simple(exact[0], exact[1], exact[2], true).sum().backward();
        for (var i = 0; i < 3; i++) GradientCheck.Relative(exact[i].grad!, shifted[i].grad!.to(float64), 1e-4, $"∂L/∂{"QKV"[i]}");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Non_causal_reductions_over_spans_of_tiles_give_the_same_results(ScalarType dtype)
    {
        // 4 target blocks for 4 chains: each reduction block takes every tile of its chain (spans of 9 and 5 tiles).
        foreach (var length in new[] { 70, 37 })
        {
            var tiles = (dtype == ScalarType.BFloat16 ? smallBfloat16 : smallFloat32) with { ReductionBlocks = 4 };
            var x = Inputs(2, length, dtype == ScalarType.BFloat16 ? 20 : 12, dtype, 17);
            var upstream = randn(x[0].shape, dtype: float64, generator: new Generator(18)).to(dtype);
            var (output, grads) = FusedGradients(x, upstream, causal: false, tiles);
            AtOutputRounding(Reference(x, false), output, dtype == ScalarType.BFloat16 ? BfloatRounding : 1e-6, "output");
            var exact = x.Select(t => t.to(float64).requires_grad_()).ToArray();
            AftNaive.Simple(exact[0], exact[1], exact[2], false).backward([upstream.to(float64)]);
            for (var i = 0; i < 3; i++)
                GradientCheck.Relative(exact[i].grad!, grads[i].to(float64), dtype == ScalarType.BFloat16 ? BfloatRounding : 1e-4, $"∂L/∂{"QKV"[i]}");
        }
    }

    [Fact]
    public void A_look_back_that_folds_aggregates_over_several_windows_gives_the_same_bits()
    {
        // 45 tiles in a chain; only tiles 0 and 40 raise their inclusive flag, so tile 39 folds 38 aggregates
        // found across two 32-flag windows. The left fold from any published prefix is the same arithmetic.
        var x = Inputs(2, 357, 5, float32, 9);
        var (output, grads) = FusedGradients(x, ones_like(x[0]), causal: true, smallFloat32);
        var (folded, foldedGrads) = FusedGradients(x, ones_like(x[0]), causal: true, smallFloat32 with { InclusiveFlagEvery = 40 });
        TensorAssert.BitIdentical(output, folded, "output");
        for (var i = 0; i < 3; i++) TensorAssert.BitIdentical(grads[i], foldedGrads[i], $"∂L/∂{"QKV"[i]}");
        GradientCheck.Relative(Reference(x, true), output.to(float64), 1e-5, "output");
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1.0)]
    [InlineData(ScalarType.Float32, 1e4)]
    [InlineData(ScalarType.BFloat16, 1.0)]
    [InlineData(ScalarType.BFloat16, 1e4)]
    public void Causal_output_at_t_ignores_inputs_after_t_bit_for_bit(ScalarType dtype, double keyScale)
    {
        var x = Inputs(2, 30, 10, dtype, 10);
        x[1] = (x[1].to(float64) * keyScale).to(dtype);
        var before = Run(x, causal: true);
        foreach (var t in new[] { 0, 6, 7, 8, 15, 28 })
        {
            var noise = Inputs(2, 30, 10, float64, (ulong)(100 + t));
            var changed = x.Select(input => input.clone()).ToArray();
            for (var i = 0; i < 3; i++)
                changed[i].narrow(1, t + 1, 29 - t).copy_((noise[i].narrow(1, t + 1, 29 - t) * (i == 1 ? 1e3 * keyScale : 1e3)).to(dtype));
            var after = Run(changed, causal: true);
            TensorAssert.BitIdentical(before.narrow(1, 0, t + 1), after.narrow(1, 0, t + 1), $"positions ≤ {t}");
        }
    }

    [Theory]
    [InlineData(false, ScalarType.Float32)]
    [InlineData(true, ScalarType.Float32)]
    [InlineData(false, ScalarType.BFloat16)]
    [InlineData(true, ScalarType.BFloat16)]
    public void Keys_up_to_1e4_give_finite_exact_outputs_and_finite_gradients(bool causal, ScalarType dtype)
    {
        var x = Inputs(2, 30, 10, float64, 11);
        x[1] = x[1] / x[1].abs().max() * 1e4;
        x = x.Select(t => t.to(dtype)).ToArray();
        using var cuda = Emulated(dtype);
        if (dtype == ScalarType.Float32)
            TensorAssert.FiniteAndExact(x, inputs => AftSimple.Apply(inputs[0], inputs[1], inputs[2], causal), inputs => Reference(inputs, causal), 1e-5);
        else
        {
            foreach (var input in x) input.requires_grad_();
            var y = AftSimple.Apply(x[0], x[1], x[2], causal);
            TensorAssert.AllFinite(y, "output");
            AtOutputRounding(Reference(x.Select(t => t.detach()).ToArray(), causal), y.detach(), BfloatRounding, "bfloat16 output");
            y.sum().backward();
            foreach (var input in x) TensorAssert.AllFinite(input.grad!, "gradient");
        }
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    public void A_NaN_reaches_neither_earlier_positions_nor_other_batch_elements(bool causal, int input)
    {
        var x = Inputs(2, 26, 10, float32, 12);
        var clean = Run(x, causal);
        var poisoned = x.Select(t => t.clone()).ToArray();
        const int at = 13;
        poisoned[input][1, at, 3].fill_(float.NaN);
        var leaves = poisoned.Select(t => t.requires_grad_()).ToArray();
        Tensor y;
        using (Emulated(float32))
        {
            y = AftSimple.Apply(leaves[0], leaves[1], leaves[2], causal);
            y.sum().backward();
        }
        TensorAssert.BitIdentical(clean[0], y.detach()[0], "the other batch element");
        if (causal) TensorAssert.BitIdentical(clean[1].narrow(0, 0, at), y.detach()[1].narrow(0, 0, at), "earlier positions");
        foreach (var leaf in leaves) TensorAssert.AllFinite(leaf.grad![0], "the other batch element's gradient");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_and_backward_leave_no_tensors_alive(bool causal)
    {
        var x = Inputs(2, 20, 4, float32, 13);
        using var cuda = Emulated(float32);
        LeakCheck.NoTensorsLeak(() =>
        {
            var leaves = x.Select(i => i.detach().requires_grad_()).ToArray();
            AftSimple.Apply(leaves[0], leaves[1], leaves[2], causal).sum().backward();
        });
    }

    static (Tensor Output, Tensor[] Grads) FusedGradients(Tensor[] x, Tensor upstream, bool causal, AftSimpleCuda.Tiles? tiles = null)
    {
        var leaves = x.Select(t => t.detach().clone().requires_grad_()).ToArray();
        using var cuda = Emulated(tiles ?? (x[0].dtype == ScalarType.BFloat16 ? smallBfloat16 : smallFloat32));
        var output = AftSimple.Apply(leaves[0], leaves[1], leaves[2], causal);
        output.backward([upstream]);
        return (output.detach(), leaves.Select(l => l.grad!).ToArray());
    }

    sealed class Both(IDisposable first, IDisposable second) : IDisposable
    {
        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }
    }
}
