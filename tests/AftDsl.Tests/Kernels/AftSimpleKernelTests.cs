using AftDsl.Kernels;
using AftDsl.Reference;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels;

/// <summary>The kernel's checks, run once on the libtorch-operator path and once on the C# CPU path.</summary>
public abstract class AftSimpleKernelTests
{
    /// <summary>The libtorch-operator kernels (the reference implementation).</summary>
    public sealed class Torch : AftSimpleKernelTests
    {
        private protected override IDisposable UsePath() => KernelDispatch.Force(KernelPath.Torch);
    }

    /// <summary>The C# CPU kernels.</summary>
    public sealed class Cpu : AftSimpleKernelTests
    {
        private protected override IDisposable UsePath() => KernelDispatch.Force(KernelPath.Cpu);
    }

    private protected abstract IDisposable UsePath();

    static Tensor[] Inputs(long batch, long length, long hidden, ScalarType dtype, ulong seed)
    {
        var generator = new Generator(seed);
        return [.. Enumerable.Range(0, 3).Select(_ => randn([batch, length, hidden], dtype: float64, generator: generator).to(dtype))];
    }

    static Tensor Reference(Tensor[] x, bool causal)
    {
        var (b, t, h) = ((int)x[0].shape[0], (int)x[0].shape[1], (int)x[0].shape[2]);
        var y = AftFullReference.ExplicitSumShifted(Arrays.Flat(x[0]), Arrays.Flat(x[1]), Arrays.Flat(x[2]), new double[t * t], b, t, h, causal);
        return Arrays.FromFlat(y, x[0].shape);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 9)]
    [InlineData(true, 1)]
    [InlineData(true, 9)]
    [InlineData(true, 50)]         // 50 = 8 chunks of 7 with a padded tail
    public void Float64_matches_eq5_as_an_explicit_sum_within_1e_10(bool causal, int length)
    {
        using var path = UsePath();
        var x = Inputs(2, length, 5, float64, 1);
        TensorAssert.Close(Reference(x, causal), AftSimple.Apply(x[0], x[1], x[2], causal), 1e-10);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Float32_matches_eq5_within_1e_5(bool causal)
    {
        using var path = UsePath();
        var x = Inputs(3, 70, 16, float32, 2);
        TensorAssert.Close(Reference(x, causal), AftSimple.Apply(x[0], x[1], x[2], causal), 1e-5);
    }

    [Theory]
    [InlineData(false, 12)]
    [InlineData(true, 12)]
    [InlineData(true, 37)]
    public void Gradients_match_autograd_through_the_naive_reference_in_float64(bool causal, int length)
    {
        using var path = UsePath();
        GradientCheck.Matches(
            x => AftSimple.Apply(x[0], x[1], x[2], causal),
            x => AftNaive.Simple(x[0], x[1], x[2], causal),
            Inputs(2, length, 4, float64, 3), ["Q", "K", "V"]);
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1.0)]
    [InlineData(ScalarType.Float64, 1.0)]
    [InlineData(ScalarType.Float32, 1e4)]
    public void Causal_output_at_t_ignores_inputs_after_t_bit_for_bit(ScalarType dtype, double keyScale)
    {
        using var path = UsePath();
        var x = Inputs(2, 40, 6, dtype, 4);
        x[1] *= keyScale;
        var before = AftSimple.Apply(x[0], x[1], x[2], causal: true);
        foreach (var t in new[] { 0, 5, 6, 7, 20, 38 })
        {
            var noise = Inputs(2, 40, 6, dtype, (ulong)(100 + t));
            var changed = x.Select((input, i) => input.clone()).ToArray();
            for (var i = 0; i < 3; i++)
                changed[i].narrow(1, t + 1, 39 - t).copy_(noise[i].narrow(1, t + 1, 39 - t) * (i == 1 ? 1e3 * keyScale : 1e3));
            var after = AftSimple.Apply(changed[0], changed[1], changed[2], causal: true);
            TensorAssert.BitIdentical(before.narrow(1, 0, t + 1), after.narrow(1, 0, t + 1), $"positions ≤ {t}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Keys_up_to_1e4_give_finite_exact_outputs_and_finite_gradients_in_float32(bool causal)
    {
        using var path = UsePath();
        var x = Inputs(2, 30, 8, float32, 5);
        x[1] = x[1] / x[1].abs().max() * 1e4;
        TensorAssert.FiniteAndExact(x, inputs => AftSimple.Apply(inputs[0], inputs[1], inputs[2], causal), inputs => Reference(inputs, causal), 1e-5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bfloat16_runs_and_stays_close_to_float64(bool causal)
    {
        var x = Inputs(2, 33, 8, float64, 6);
        var output = AftSimple.Apply(x[0].to(bfloat16), x[1].to(bfloat16), x[2].to(bfloat16), causal);
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        TensorAssert.Close(Reference(x, causal), output.to(float64), 0.05);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_and_backward_leave_no_tensors_alive(bool causal)
    {
        using var path = UsePath();
        var x = Inputs(2, 20, 4, float32, 7);
        LeakCheck.NoTensorsLeak(() =>
        {
            var leaves = x.Select(i => i.detach().requires_grad_()).ToArray();
            AftSimple.Apply(leaves[0], leaves[1], leaves[2], causal).sum().backward();
        });
    }
}
