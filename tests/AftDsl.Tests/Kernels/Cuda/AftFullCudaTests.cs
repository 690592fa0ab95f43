using AftDsl.Kernels;
using AftDsl.Reference;
using AftDsl.Tests.Cuda.Emulation;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels.Cuda;

/// <summary>
/// The CUDA AFT-full path (aft_full.cu around libtorch products) under the host emulation on CPU tensors,
/// against float64 references and autograd. Causal lengths of 150 make three row chunks (64, 64, 22).
/// </summary>
public sealed class AftFullCudaTests
{
    static readonly string[] names = ["Q", "K", "V", "U", "W"];

    /// <summary>q, k, v <c>[B, T, H]</c> and factors u, w <c>[T + 5, rank]</c>, drawn in float64 and rounded to <paramref name="dtype"/>.</summary>
    static Tensor[] Inputs(int batch, int length, int hidden, ScalarType dtype, ulong seed, int rank = 3)
    {
        var generator = new Generator(seed);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator).to(dtype);
        return [Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(length + 5, rank), Draw(length + 5, rank)];
    }

    static Tensor Bias(Tensor[] x) => x[3].narrow(0, 0, x[0].shape[1]).matmul(x[4].narrow(0, 0, x[0].shape[1]).t());

    /// <summary>Eq. 2 as an explicit float64 sum over the inputs' exact values.</summary>
    static Tensor Reference(Tensor[] x, bool causal)
    {
        var e = x.Select(t => t.detach().to(float64)).ToArray();
        var (b, t, h) = ((int)x[0].shape[0], (int)x[0].shape[1], (int)x[0].shape[2]);
        var y = AftFullReference.ExplicitSumShifted(Arrays.Flat(e[0]), Arrays.Flat(e[1]), Arrays.Flat(e[2]), Arrays.Flat(Bias(e)), b, t, h, causal);
        return Arrays.FromFlat(y, x[0].shape);
    }

    static Tensor Run(Tensor[] x, bool causal)
    {
        using var cuda = EmulatedCuda.Use();
        return AftFull.Apply(x[0], x[1], x[2], x[3], x[4], causal);
    }

    /// <summary>Output and gradients of the CUDA path for <paramref name="upstream"/>, and the float64 autograd reference's.</summary>
    static void GradientsMatch(Tensor[] x, bool causal, double relative, ulong seed)
    {
        var upstream = randn(x[0].shape, dtype: float64, generator: new Generator(seed)).to(x[0].dtype);
        var leaves = x.Select(t => t.detach().clone().requires_grad_()).ToArray();
        using (EmulatedCuda.Use())
            AftFull.Apply(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], causal).backward([upstream]);
        var exact = x.Select(t => t.detach().to(float64).requires_grad_()).ToArray();
        AftNaive.Full(exact[0], exact[1], exact[2], Bias(exact), causal).backward([upstream.to(float64)]);
        for (var i = 0; i < x.Length; i++)
        {
            Assert.Equal(x[0].dtype, leaves[i].grad!.dtype);
            GradientCheck.Relative(exact[i].grad!, leaves[i].grad!.to(float64), relative, $"∂L/∂{names[i]}");
        }
    }

    [Theory]
    [InlineData(false, 9)]
    [InlineData(true, 9)]
    [InlineData(false, 150)]
    [InlineData(true, 150)]
    public void Float32_matches_the_explicit_sum_of_eq2_within_1e_5(bool causal, int length)
    {
        var x = Inputs(2, length, 6, float32, 1);
        var y = Run(x, causal);
        Assert.Equal(ScalarType.Float32, y.dtype);
        TensorAssert.Close(Reference(x, causal), y, 1e-5);
    }

    [Theory]
    [InlineData(false, 10)]
    [InlineData(true, 10)]
    [InlineData(true, 150)]
    public void Float32_gradients_match_float64_autograd_through_the_naive_reference(bool causal, int length) =>
        GradientsMatch(Inputs(2, length, 3, float32, 2), causal, 1e-4, 3);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bfloat16_stays_at_bfloat16_precision_of_float64(bool causal)
    {
        var x = Inputs(2, 33, 8, bfloat16, 4);
        var y = Run(x, causal);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        GradientCheck.Relative(Reference(x, causal), y.to(float64), 2e-2, "bfloat16 output");
        GradientsMatch(x, causal, 5e-2, 5);
    }

    [Theory]
    [InlineData(1.0, 40)]
    [InlineData(1e4, 40)]        // large keys: the exact-row path runs too
    [InlineData(1.0, 150)]       // several row chunks
    public void Causal_output_at_t_ignores_inputs_after_t_bit_for_bit(double keyScale, int length)
    {
        var x = Inputs(2, length, 6, float32, 6);
        x[1] = x[1] * keyScale;
        var before = Run(x, causal: true);
        foreach (var t in new[] { 0, 1, length / 3, length / 2, length - 2 })
        {
            var later = length - t - 1;
            var noise = Inputs(2, length, 6, float32, (ulong)(100 + t));
            Tensor Future(Tensor original, Tensor replacement) => cat([original.narrow(1, 0, t + 1), replacement.narrow(1, t + 1, later)], 1);
            var w = x[4].clone();
            w.narrow(0, t + 1, later).copy_(noise[4].narrow(0, t + 1, later) * 7);           // biases of later sources
            var after = Run([Future(x[0], noise[0]), Future(x[1], noise[1] * 1e3 * keyScale), Future(x[2], noise[2] * 1e3), x[3], w], causal: true);
            TensorAssert.BitIdentical(before.narrow(1, 0, t + 1), after.narrow(1, 0, t + 1), $"positions ≤ {t}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Keys_at_1e4_and_biases_at_50_give_finite_exact_outputs_and_gradients_in_float32(bool causal)
    {
        var x = Inputs(2, 24, 8, float32, 7, rank: 1);
        x[1] = x[1] / x[1].abs().max() * 1e4;
        x[3] = x[3].sign() * Math.Sqrt(50);                                                    // w[t, t'] = ±50 everywhere
        x[4] = x[4].sign() * Math.Sqrt(50);
        using var cuda = EmulatedCuda.Use();
        TensorAssert.FiniteAndExact(x, i => AftFull.Apply(i[0], i[1], i[2], i[3], i[4], causal), i => Reference(i, causal), 1e-5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rows_whose_fast_path_underflows_are_repaired_with_their_gradients(bool causal)
    {
        // Keys ±400 and biases ±400 that cancel: the fast path's separate shifts give exp(−800) = 0 denominators.
        const int length = 10;
        var noise = new Generator(8);
        var k = zeros([2, length, 3], dtype: float64);
        k.select(2, 0).fill_(-400).narrow(1, 0, 1).fill_(400);
        k.select(2, 1).fill_(400).narrow(1, 0, 1).fill_(-400);
        k += 0.3 * randn([2, length, 3], dtype: float64, generator: noise);
        var u = 20 + 0.1 * randn([length, 1], dtype: float64, generator: noise);
        var w = 20 + 0.1 * randn([length, 1], dtype: float64, generator: noise);
        w.narrow(0, 0, 1).neg_();
        var x = new[] { randn([2, length, 3], dtype: float64, generator: noise), k, randn([2, length, 3], dtype: float64, generator: noise), u, w }
            .Select(t => t.to(float32)).ToArray();
        // Scores K + w of magnitude ~800 carry float32 rounding of ulp(800) ≈ 6e-5 into each weight: 2e-4, not 1e-5.
        GradientCheck.Relative(Reference(x, causal), Run(x, causal).to(float64), 2e-4, "output");
        GradientsMatch(x, causal, 2e-4, 9);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_NaN_reaches_neither_earlier_positions_nor_other_batch_elements(bool causal)
    {
        var x = Inputs(2, 20, 4, float32, 10);
        var clean = Run(x, causal);
        var poisoned = x.Select(t => t.clone()).ToArray();
        const int at = 11;
        poisoned[1][1, at, 2].fill_(float.NaN);
        var y = Run(poisoned, causal);
        TensorAssert.BitIdentical(clean[0], y[0], "the other batch element");
        if (causal) TensorAssert.BitIdentical(clean[1].narrow(0, 0, at), y[1].narrow(0, 0, at), "earlier positions");
    }

    [Fact]
    public void A_causal_infinite_value_reaches_its_channel_from_its_position_on_and_nothing_earlier()
    {
        // X is built with non-finite elements zeroed (so that masked products never meet them); the rows from
        // there on must still see the infinity, through the exact path.
        var x = Inputs(2, 20, 4, float32, 12);
        var clean = Run(x, causal: true);
        var poisoned = x.Select(t => t.clone()).ToArray();
        const int at = 7;
        poisoned[2][1, at, 3].fill_(float.PositiveInfinity);
        var y = Run(poisoned, causal: true);
        TensorAssert.BitIdentical(clean[0], y[0], "the other batch element");
        TensorAssert.BitIdentical(clean[1].narrow(0, 0, at), y[1].narrow(0, 0, at), "earlier positions");
        Assert.False(y[1].narrow(0, at, 20 - at).select(1, 3).isfinite().any().item<bool>(), "channel 3 from position 7 on must not be finite");
        TensorAssert.Close(clean[1].narrow(0, at, 20 - at).narrow(1, 0, 3), y[1].narrow(0, at, 20 - at).narrow(1, 0, 3), 1e-5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_sum_loss_hands_in_an_expanded_gradient(bool causal)
    {
        var x = Inputs(2, 12, 5, float32, 11);
        var leaves = x.Select(t => t.detach().requires_grad_()).ToArray();
        using (EmulatedCuda.Use())
            AftFull.Apply(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], causal).sum().backward();
        var exact = x.Select(t => t.to(float64).requires_grad_()).ToArray();
        AftNaive.Full(exact[0], exact[1], exact[2], Bias(exact), causal).sum().backward();
        for (var i = 0; i < x.Length; i++)
            GradientCheck.Relative(exact[i].grad!, leaves[i].grad!.to(float64), 1e-4, $"∂L/∂{names[i]}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Float32_biases_with_bfloat16_activations_get_float32_gradients(bool causal)
    {
        var x = Inputs(2, 20, 4, float32, 13);
        var mixed = x.Select((t, i) => i < 3 ? t.to(bfloat16) : t).ToArray();
        var leaves = mixed.Select(t => t.detach().requires_grad_()).ToArray();
        Tensor y;
        using (EmulatedCuda.Use())
        {
            y = AftFull.Apply(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], causal);
            y.sum().backward();
        }
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        Assert.Equal(ScalarType.Float32, leaves[3].grad!.dtype);
        Assert.Equal(ScalarType.Float32, leaves[4].grad!.dtype);
        var exact = mixed.Select(t => t.to(bfloat16).to(float64).requires_grad_()).ToArray();
        AftNaive.Full(exact[0], exact[1], exact[2], Bias(exact), causal).sum().backward();
        GradientCheck.Relative(exact[3].grad!, leaves[3].grad!.to(float64), 5e-2, "∂L/∂U");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_and_backward_leave_no_tensors_alive(bool causal)
    {
        var x = Inputs(2, 20, 4, float32, 12);
        using var cuda = EmulatedCuda.Use();
        LeakCheck.NoTensorsLeak(() =>
        {
            var leaves = x.Select(i => i.detach().requires_grad_()).ToArray();
            AftFull.Apply(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], causal).sum().backward();
        });
    }
}
