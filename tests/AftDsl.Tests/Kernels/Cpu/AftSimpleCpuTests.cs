using AftDsl.Kernels;
using AftDsl.Reference;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels.Cpu;

/// <summary>The C# AFT-simple kernel at sizes that meet its vector tails and channel blocks, and its isolation of bad inputs.</summary>
public sealed class AftSimpleCpuTests
{
    static Tensor[] Inputs(long batch, long length, long hidden, ScalarType dtype, ulong seed)
    {
        var generator = new Generator(seed);
        return [.. Enumerable.Range(0, 3).Select(_ => randn([batch, length, hidden], dtype: float64, generator: generator).to(dtype))];
    }

    static Tensor Apply(Tensor[] x, bool causal) => AftSimple.Apply(x[0], x[1], x[2], causal);

    public static TheoryData<bool, int, int, int> OddSizes()
    {
        var data = new TheoryData<bool, int, int, int>();
        foreach (var causal in new[] { false, true })
        foreach (var (b, t, h) in new[] { (1, 1, 1), (1, 1, 9), (7, 3, 5), (1, 37, 13), (7, 19, 3), (2, 23, 300) })
            data.Add(causal, b, t, h);
        return data;
    }

    [Theory]
    [MemberData(nameof(OddSizes))]
    public void Odd_sizes_match_autograd_through_the_naive_reference_in_float64(bool causal, int batch, int length, int hidden)
    {
        using var path = KernelDispatch.Force(KernelPath.Cpu);
        GradientCheck.Matches(x => Apply(x, causal), x => AftNaive.Simple(x[0], x[1], x[2], causal),
            Inputs(batch, length, hidden, float64, 11), ["Q", "K", "V"]);
    }

    [Theory]
    [MemberData(nameof(OddSizes))]
    public void Odd_sizes_in_float32_match_float64_within_1e_5(bool causal, int batch, int length, int hidden)
    {
        using var path = KernelDispatch.Force(KernelPath.Cpu);
        var x = Inputs(batch, length, hidden, float64, 12);
        var expected = AftNaive.Simple(x[0], x[1], x[2], causal);
        GradientCheck.Relative(expected, Apply([.. x.Select(i => i.to(float32))], causal).to(float64), 1e-5, "output");
    }

    [Theory]
    [InlineData(false, 1, 300)]
    [InlineData(true, 1, 300)]
    [InlineData(true, 3, 517)]
    [InlineData(false, 5, 40)]
    public void One_and_two_threads_give_bit_identical_outputs_and_gradients(bool causal, int batch, int hidden)
    {
        foreach (var dtype in new[] { float32, float64 })
        {
            var x = Inputs(batch, 45, hidden, dtype, 13);
            using var upstream = randn_like(x[0]);
            var one = CpuKernelRuns.Run(y => Apply(y, causal), x, upstream, threads: 1);
            var two = CpuKernelRuns.Run(y => Apply(y, causal), x, upstream, threads: 2);
            TensorAssert.BitIdentical(one.Output, two.Output, $"{dtype} output");
            for (var i = 0; i < 3; i++)
                TensorAssert.BitIdentical(one.Gradients[i], two.Gradients[i], $"{dtype} gradient {i}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Keys_up_to_1e4_in_float64_stay_exact_with_exact_gradients(bool causal)
    {
        using var path = KernelDispatch.Force(KernelPath.Cpu);
        var x = Inputs(3, 29, 11, float64, 14);
        x[1] = x[1] / x[1].abs().max() * 1e4;
        GradientCheck.Matches(y => Apply(y, causal), y => AftNaive.Simple(y[0], y[1], y[2], causal), x, ["Q", "K", "V"]);
    }

    [Theory]
    [InlineData(false, 1, double.NaN)]
    [InlineData(true, 1, double.NaN)]
    [InlineData(true, 1, double.PositiveInfinity)]
    [InlineData(true, 2, double.NaN)]
    [InlineData(false, 2, double.PositiveInfinity)]
    public void A_bad_input_reaches_no_earlier_position_and_no_other_batch_element(bool causal, int input, double bad)
    {
        using var path = KernelDispatch.Force(KernelPath.Cpu);
        const int at = 17;
        var x = Inputs(3, 40, 21, float32, 15);
        var clean = Apply(x, causal);
        var poisoned = x.Select(i => i.clone()).ToArray();
        poisoned[input][1, at, 4] = bad;
        var output = Apply(poisoned, causal);
        TensorAssert.BitIdentical(clean[0], output[0], "batch element 0");
        TensorAssert.BitIdentical(clean[2], output[2], "batch element 2");
        if (causal)
            TensorAssert.BitIdentical(clean[1].narrow(0, 0, at), output[1].narrow(0, 0, at), "positions before the bad input");
    }
}
