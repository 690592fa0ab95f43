using AftDsl.Kernels;
using AftDsl.Kernels.Cpu;
using AftDsl.Reference;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels.Cpu;

/// <summary>Properties of the AFT-full CPU kernel beyond agreeing with the references: threads, NaN isolation, odd sizes.</summary>
public sealed class AftFullCpuTests
{
    static Tensor[] Inputs(long batch, long length, long hidden, ScalarType dtype, ulong seed, long rank = 3)
    {
        var generator = new Generator(seed);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator).to(dtype);
        return [Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(batch, length, hidden), Draw(length + 3, rank), Draw(length + 3, rank)];
    }

    static Tensor Run(Tensor[] x, bool causal)
    {
        using var cpu = ConvFullPaths.Force(ConvFullPath.Cpu);
        return AftFull.Apply(x[0], x[1], x[2], x[3], x[4], causal);
    }

    [Theory]
    [InlineData(1L, 1L, 5L, false)]          // T = 1
    [InlineData(1L, 1L, 5L, true)]
    [InlineData(7L, 19L, 11L, false)]        // B = 7, H not a multiple of the vector width
    [InlineData(7L, 19L, 11L, true)]
    [InlineData(1L, 513L, 3L, true)]         // T one past two blocks
    [InlineData(2L, 300L, 9L, false)]
    public void Odd_sizes_match_the_float64_reference_and_its_gradients(long batch, long length, long hidden, bool causal)
    {
        var x = Inputs(batch, length, hidden, float64, seed: 31);
        if (length == 1)
        {
            // One source: y = σ(q) ⊙ v exactly, whatever the keys and biases.
            TensorAssert.Close(x[0].sigmoid() * x[2], Run(x, causal), 1e-15);
            return;
        }
        using var cpu = ConvFullPaths.Force(ConvFullPath.Cpu);
        GradientCheck.Matches(
            y => AftFull.Apply(y[0], y[1], y[2], y[3], y[4], causal),
            y => AftNaive.Full(y[0], y[1], y[2], y[3].narrow(0, 0, length).matmul(y[4].narrow(0, 0, length).t()), causal),
            x, ["Q", "K", "V", "U", "W"]);
        var single = x.Select(t => t.to(float32)).ToArray();
        GradientCheck.Relative(AftNaive.Full(x[0], x[1], x[2], x[3].narrow(0, 0, length).matmul(x[4].narrow(0, 0, length).t()), causal),
            Run(single, causal).to(float64), 1e-5, "float32 output");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void One_and_two_threads_give_bit_identical_outputs_and_gradients(bool causal)
    {
        var x = Inputs(2, 300, 12, float32, seed: 32);
        (Tensor, Tensor[]) Once(int threads)
        {
            using var degree = ConvFullThreads.Use(threads);
            var leaves = x.Select(t => t.detach().clone().requires_grad_()).ToArray();
            var output = Run(leaves, causal);
            output.backward([randn(output.shape, generator: new Generator(3))]);
            return (output.detach(), leaves.Select(l => l.grad!).ToArray());
        }
        var (one, oneGrads) = Once(1);
        var (two, twoGrads) = Once(2);
        TensorAssert.BitIdentical(one, two, "output");
        for (var i = 0; i < 5; i++) TensorAssert.BitIdentical(oneGrads[i], twoGrads[i], $"gradient {i}");
    }

    [Theory]
    [InlineData(double.NaN, 20L)]
    [InlineData(double.PositiveInfinity, 20L)]
    [InlineData(double.NaN, 300L)]            // in the second block: the first block's product stays whole
    public void A_bad_value_reaches_no_earlier_position_of_a_causal_sequence_and_no_other_batch_element(double bad, long at)
    {
        const long length = 520;
        var x = Inputs(2, length, 8, float32, seed: 33);
        var clean = Run(x, causal: true);
        for (var input = 0; input < 3; input++)
        {
            var poisoned = x.Select(t => t.clone()).ToArray();
            poisoned[input][0, at, 3] = tensor(bad, float32);
            var output = Run(poisoned, causal: true);
            TensorAssert.BitIdentical(clean.narrow(1, 0, at).select(0, 0), output.narrow(1, 0, at).select(0, 0), $"batch 0 before the bad input {input}");
            TensorAssert.BitIdentical(clean.select(0, 1), output.select(0, 1), $"batch 1 with a bad input {input} in batch 0");
        }
    }

    [Fact]
    public void A_bad_value_reaches_no_other_batch_element_without_causality()
    {
        var x = Inputs(3, 40, 8, float64, seed: 34);
        var clean = Run(x, causal: false);
        for (var input = 0; input < 3; input++)
        {
            var poisoned = x.Select(t => t.clone()).ToArray();
            poisoned[input][1, 7, 2] = tensor(double.NaN, float64);
            var output = Run(poisoned, causal: false);
            TensorAssert.BitIdentical(clean.select(0, 0), output.select(0, 0), "batch 0");
            TensorAssert.BitIdentical(clean.select(0, 2), output.select(0, 2), "batch 2");
        }
    }

    [Fact]
    public void Extreme_keys_in_float64_stay_within_1e_8_of_the_reference()
    {
        foreach (var causal in new[] { false, true })
        {
            var x = Inputs(2, 40, 6, float64, seed: 35);
            x[1] = x[1] / x[1].abs().max() * 1e4;
            var output = Run(x, causal);
            TensorAssert.AllFinite(output, "output");
            GradientCheck.Relative(AftNaive.Full(x[0], x[1], x[2], x[3].narrow(0, 0, 40).matmul(x[4].narrow(0, 0, 40).t()), causal), output, 1e-8,
                causal ? "causal" : "non-causal");
        }
    }
}
