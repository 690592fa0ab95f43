using AftDsl.Kernels;
using AftDsl.Reference;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels;

/// <summary>The kernel's checks, run once on the libtorch-operator path and once on the C# CPU path.</summary>
public abstract class AftLocalKernelTests
{
    /// <summary>The libtorch-operator kernels (the reference implementation).</summary>
    public sealed class Torch : AftLocalKernelTests
    {
        private protected override IDisposable UsePath() => KernelDispatch.Force(KernelPath.Torch);
    }

    /// <summary>The C# CPU kernels.</summary>
    public sealed class Cpu : AftLocalKernelTests
    {
        private protected override IDisposable UsePath() => KernelDispatch.Force(KernelPath.Cpu);
    }

    private protected abstract IDisposable UsePath();

    /// <summary>Q, K, V <c>[B, T, H]</c> and factors U, W <c>[maxLength, rank]</c>.</summary>
    static Tensor[] Inputs(long batch, long length, long hidden, ScalarType dtype, ulong seed, long rank = 3, long extraRows = 4)
    {
        var generator = new Generator(seed);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator).to(dtype);
        return [Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(length + extraRows, rank), Draw(length + extraRows, rank)];
    }

    static Tensor Bias(Tensor[] x) => x[3].narrow(0, 0, x[0].shape[1]).matmul(x[4].narrow(0, 0, x[0].shape[1]).t());

    /// <summary>Eq. 4 as an explicit sum: the masked-w definition (w kept where |t − t'| &lt; s, else 0).</summary>
    static Tensor Reference(Tensor[] x, long window, bool causal)
    {
        var length = x[0].shape[1];
        var masked = Bias(x).to(float64) * AftNaive.LocalMask(length, window, x[0].device).to(float64);
        var (b, t, h) = ((int)x[0].shape[0], (int)length, (int)x[0].shape[2]);
        return Arrays.FromFlat(AftFullReference.ExplicitSumShifted(Arrays.Flat(x[0]), Arrays.Flat(x[1]), Arrays.Flat(x[2]), Arrays.Flat(masked), b, t, h, causal), x[0].shape);
    }

    static Tensor Run(Tensor[] x, long window, bool causal) => AftLocal.Apply(x[0], x[1], x[2], x[3], x[4], window, causal);

    [Theory]
    [InlineData(false, 1, 9)]
    [InlineData(false, 3, 9)]
    [InlineData(false, 4, 150)]       // several blocks
    [InlineData(false, 40, 150)]
    [InlineData(false, 30, 20)]       // window wider than the sequence: AFT-full
    [InlineData(true, 1, 9)]
    [InlineData(true, 3, 9)]
    [InlineData(true, 4, 150)]
    [InlineData(true, 40, 150)]
    public void Float64_matches_the_masked_w_definition_of_eq4_within_1e_10(bool causal, long window, long length)
    {
        using var path = UsePath();
        var x = Inputs(2, length, 5, float64, 1);
        TensorAssert.Close(Reference(x, window, causal), Run(x, window, causal), 1e-10);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Float32_matches_eq4_within_1e_5(bool causal)
    {
        using var path = UsePath();
        var x = Inputs(3, 130, 16, float32, 2);
        TensorAssert.Close(Reference(x, 32, causal), Run(x, 32, causal), 1e-5);
    }

    [Theory]
    [InlineData(false, 3, 12)]
    [InlineData(true, 3, 12)]
    [InlineData(false, 5, 140)]
    [InlineData(true, 5, 140)]
    [InlineData(true, 40, 30)]
    public void Gradients_match_autograd_through_the_naive_reference_in_float64(bool causal, long window, long length)
    {
        using var path = UsePath();
        GradientCheck.Matches(
            y => AftLocal.Apply(y[0], y[1], y[2], y[3], y[4], window, causal),
            y => AftNaive.Local(y[0], y[1], y[2], Bias(y), window, causal),
            Inputs(2, length, 3, float64, 3), ["Q", "K", "V", "U", "W"]);
    }

    [Fact]
    public void A_window_as_wide_as_the_sequence_is_aft_full()
    {
        using var path = UsePath();
        var x = Inputs(2, 20, 4, float64, 4);
        foreach (var causal in new[] { false, true })
            TensorAssert.Close(AftFull.Apply(x[0], x[1], x[2], x[3], x[4], causal), Run(x, 20, causal), 1e-12);
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1.0)]
    [InlineData(ScalarType.Float64, 1.0)]
    [InlineData(ScalarType.Float32, 1e4)]
    public void Causal_output_at_t_ignores_inputs_after_t_bit_for_bit(ScalarType dtype, double keyScale)
    {
        using var path = UsePath();
        const long length = 150;
        var x = Inputs(2, length, 6, dtype, 5);
        x[1] *= keyScale;
        var before = Run(x, 7, causal: true);
        foreach (var t in new long[] { 0, 3, 63, 64, 100, 148 })
        {
            var later = length - t - 1;
            var noise = Inputs(2, length, 6, dtype, (ulong)(100 + t));
            var changed = x.Select(i => i.clone()).ToArray();
            for (var i = 0; i < 3; i++)
                changed[i].narrow(1, t + 1, later).copy_(noise[i].narrow(1, t + 1, later) * (i == 1 ? 1e3 * keyScale : 1e3));
            changed[4].narrow(0, t + 1, later).copy_(noise[4].narrow(0, t + 1, later) * 9);
            TensorAssert.BitIdentical(before.narrow(1, 0, t + 1), Run(changed, 7, causal: true).narrow(1, 0, t + 1), $"positions ≤ {t}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Keys_up_to_1e4_and_biases_at_50_give_finite_exact_outputs_and_gradients_in_float32(bool causal)
    {
        using var path = UsePath();
        var x = Inputs(2, 40, 8, float32, 6, rank: 1);
        x[1] = x[1] / x[1].abs().max() * 1e4;
        x[3] = x[3].sign() * Math.Sqrt(50);
        x[4] = x[4].sign() * Math.Sqrt(50);
        TensorAssert.FiniteAndExact(x, inputs => Run(inputs, 5, causal), inputs => Reference(inputs, 5, causal), 1e-5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rows_whose_band_correction_cancels_are_exact_with_exact_gradients(bool causal)
    {
        using var path = UsePath();
        // Keys large inside the band and biases of −30 there: the global sum is almost all band, and
        // 1 + (e^w − 1) cancels to e^{−30}. Those rows take the exact path.
        var x = Inputs(2, 24, 3, float64, 7, rank: 1);
        x[1] = x[1] * 0.1 + 30 * (arange(24, dtype: float64) % 6 == 0).to(float64).unsqueeze(0).unsqueeze(2);
        x[3] = full([28, 1], Math.Sqrt(30), dtype: float64);
        x[4] = full([28, 1], -Math.Sqrt(30), dtype: float64);
        TensorAssert.Close(Reference(x, 2, causal), Run(x, 2, causal), 1e-10);
        GradientCheck.Matches(
            y => AftLocal.Apply(y[0], y[1], y[2], x[3], x[4], 2, causal),
            y => AftNaive.Local(y[0], y[1], y[2], Bias(x), 2, causal),
            x[..3], ["Q", "K", "V"]);
        // ∂U and ∂W are e^{−30} small except in row 0, whose single source makes its ∂w = S (V − R) exactly 0:
        // there both sides round O(1) terms, so they are compared to 1e-8 of their size plus that rounding (2e-15).
        var (fused, reference) = (FactorGradients(y => AftLocal.Apply(y[0], y[1], y[2], y[3], y[4], 2, causal), x),
            FactorGradients(y => AftNaive.Local(y[0], y[1], y[2], Bias(y), 2, causal), x));
        for (var i = 0; i < 2; i++)
            TensorAssert.Close(reference[i], fused[i], 1e-8 * reference[i].abs().max().item<double>() + 2e-15, i == 0 ? "∂L/∂U" : "∂L/∂W");
    }

    static Tensor[] FactorGradients(Func<Tensor[], Tensor> function, Tensor[] inputs)
    {
        var leaves = inputs.Select(i => i.detach().clone().requires_grad_()).ToArray();
        var output = function(leaves);
        output.backward([randn(output.shape, dtype: output.dtype, generator: new Generator(99))]);
        return [leaves[3].grad!, leaves[4].grad!];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bfloat16_runs_and_stays_close_to_float64(bool causal)
    {
        var x = Inputs(2, 70, 8, float64, 8);
        var output = Run(x.Select(i => i.to(bfloat16)).ToArray(), 4, causal);
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        TensorAssert.Close(Reference(x, 4, causal), output.to(float64), 0.1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_and_backward_leave_no_tensors_alive(bool causal)
    {
        using var path = UsePath();
        var x = Inputs(2, 90, 4, float32, 9);
        LeakCheck.NoTensorsLeak(() =>
        {
            var leaves = x.Select(i => i.detach().requires_grad_()).ToArray();
            Run(leaves, 6, causal).sum().backward();
        });
    }
}
