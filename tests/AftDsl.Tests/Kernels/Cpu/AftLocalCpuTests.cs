using AftDsl.Kernels;
using AftDsl.Reference;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels.Cpu;

/// <summary>The C# AFT-local kernel at sizes that meet its vector tails, rings and channel blocks, and its isolation of bad inputs.</summary>
public sealed class AftLocalCpuTests
{
    /// <summary>Q, K, V <c>[B, T, H]</c> and factors U, W <c>[T + 3, rank]</c>.</summary>
    static Tensor[] Inputs(long batch, long length, long hidden, ScalarType dtype, ulong seed, long rank = 3)
    {
        var generator = new Generator(seed);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator).to(dtype);
        return [Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(length + 3, rank), Draw(length + 3, rank)];
    }

    static Tensor Bias(Tensor[] x) => x[3].narrow(0, 0, x[0].shape[1]).matmul(x[4].narrow(0, 0, x[0].shape[1]).t());

    static Tensor Apply(Tensor[] x, long window, bool causal) => AftLocal.Apply(x[0], x[1], x[2], x[3], x[4], window, causal);

    static Tensor Naive(Tensor[] x, long window, bool causal) => AftNaive.Local(x[0], x[1], x[2], Bias(x), window, causal);

    public static TheoryData<bool, int, int, int, int> OddSizes()
    {
        var data = new TheoryData<bool, int, int, int, int>();
        foreach (var causal in new[] { false, true })
        foreach (var (b, t, h, s) in new[] { (1, 1, 1, 1), (1, 1, 9, 4), (7, 3, 5, 2), (1, 37, 13, 5), (7, 19, 3, 1), (2, 23, 300, 6), (1, 10, 9, 64) })
            data.Add(causal, b, t, h, s);
        return data;
    }

    [Theory]
    [MemberData(nameof(OddSizes))]
    public void Odd_sizes_match_autograd_through_the_naive_reference_in_float64(bool causal, int batch, int length, int hidden, int window)
    {
        using var path = KernelDispatch.Force(KernelPath.Cpu);
        GradientCheck.Matches(x => Apply(x, window, causal), x => Naive(x, window, causal),
            Inputs(batch, length, hidden, float64, 21), ["Q", "K", "V", "U", "W"]);
    }

    [Theory]
    [MemberData(nameof(OddSizes))]
    public void Odd_sizes_in_float32_match_float64_within_1e_5(bool causal, int batch, int length, int hidden, int window)
    {
        using var path = KernelDispatch.Force(KernelPath.Cpu);
        var x = Inputs(batch, length, hidden, float64, 22);
        GradientCheck.Relative(Naive(x, window, causal), Apply([.. x.Select(i => i.to(float32))], window, causal).to(float64), 1e-5, "output");
    }

    [Theory]
    [InlineData(false, 1, 300, 7)]
    [InlineData(true, 1, 300, 7)]
    [InlineData(true, 3, 517, 3)]
    [InlineData(false, 5, 40, 12)]
    public void One_and_two_threads_give_bit_identical_outputs_and_gradients(bool causal, int batch, int hidden, int window)
    {
        foreach (var dtype in new[] { float32, float64 })
        {
            var x = Inputs(batch, 45, hidden, dtype, 23);
            using var upstream = randn_like(x[0]);
            var one = CpuKernelRuns.Run(y => Apply(y, window, causal), x, upstream, threads: 1);
            var two = CpuKernelRuns.Run(y => Apply(y, window, causal), x, upstream, threads: 2);
            TensorAssert.BitIdentical(one.Output, two.Output, $"{dtype} output");
            for (var i = 0; i < 5; i++)
                TensorAssert.BitIdentical(one.Gradients[i], two.Gradients[i], $"{dtype} gradient {i}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Keys_up_to_1e4_and_biases_at_50_in_float64_stay_exact_with_exact_gradients(bool causal)
    {
        using var path = KernelDispatch.Force(KernelPath.Cpu);
        var x = Inputs(3, 29, 11, float64, 24, rank: 1);
        x[1] = x[1] / x[1].abs().max() * 1e4;
        x[3] = x[3].sign() * Math.Sqrt(50);
        x[4] = x[4].sign() * Math.Sqrt(50);
        var (output, gradients) = Gradients(y => Apply(y, 4, causal), x);
        var (expected, reference) = Gradients(y => Naive(y, 4, causal), x);
        GradientCheck.Relative(expected, output, 1e-8, "output");
        GradientCheck.Relative(reference[0], gradients[0], 1e-8, "∂L/∂Q");
        GradientCheck.Relative(reference[2], gradients[2], 1e-8, "∂L/∂V");
        // The softmax is saturated: ∂K, ∂U and ∂W are differences V ∂V − Σ h R of O(1) terms that cancel to
        // about 1e-26, so they are compared to 1e-8 of their size plus the rounding of those terms (1e-14).
        foreach (var (i, name) in new[] { (1, "∂L/∂K"), (3, "∂L/∂U"), (4, "∂L/∂W") })
            TensorAssert.Close(reference[i], gradients[i], 1e-8 * reference[i].abs().max().item<double>() + 1e-14, name);
    }

    static (Tensor Output, Tensor[] Gradients) Gradients(Func<Tensor[], Tensor> function, Tensor[] inputs)
    {
        var leaves = inputs.Select(i => i.detach().clone().requires_grad_()).ToArray();
        var output = function(leaves);
        output.backward([randn(output.shape, dtype: output.dtype, generator: new Generator(99))]);
        return (output.detach(), [.. leaves.Select(l => l.grad!)]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Channels_far_below_the_largest_key_of_their_position_are_exact_in_float32(bool causal)
    {
        // One channel 60 above the others: e^{K − σ} of the rest underflows the shared factorisation.
        using var path = KernelDispatch.Force(KernelPath.Cpu);
        var x = Inputs(2, 33, 10, float64, 25);
        x[1].select(2, 3).add_(60);
        var expected = Naive(x, 5, causal);
        GradientCheck.Relative(expected, Apply([.. x.Select(i => i.to(float32))], 5, causal).to(float64), 1e-5, "output");
        GradientCheck.Matches(y => Apply(y, 5, causal), y => Naive(y, 5, causal), x, ["Q", "K", "V", "U", "W"]);
    }

    [Theory]
    [InlineData(false, 1, double.NaN)]
    [InlineData(true, 1, double.NaN)]
    [InlineData(true, 1, double.PositiveInfinity)]
    [InlineData(true, 2, double.NaN)]
    [InlineData(false, 2, double.PositiveInfinity)]
    [InlineData(true, 0, double.NaN)]
    public void A_bad_input_reaches_no_earlier_position_and_no_other_batch_element(bool causal, int input, double bad)
    {
        using var path = KernelDispatch.Force(KernelPath.Cpu);
        const int at = 17;
        var x = Inputs(3, 40, 21, float32, 26);
        var clean = Apply(x, 5, causal);
        var poisoned = x.Select(i => i.clone()).ToArray();
        poisoned[input][1, at, 4] = bad;
        var output = Apply(poisoned, 5, causal);
        TensorAssert.BitIdentical(clean[0], output[0], "batch element 0");
        TensorAssert.BitIdentical(clean[2], output[2], "batch element 2");
        if (causal)
            TensorAssert.BitIdentical(clean[1].narrow(0, 0, at), output[1].narrow(0, 0, at), "positions before the bad input");
    }
}
