using AftDsl.Kernels;
using AftDsl.Kernels.Cpu;
using AftDsl.Reference;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels.Cpu;

/// <summary>Properties of the AFT-conv CPU kernel beyond agreeing with the references: threads, NaN isolation, dispatch, layouts.</summary>
public sealed class AftConvCpuTests
{
    static Tensor[] Inputs(long batch, long[] grid, long heads, long width, long size, ScalarType dtype, ulong seed)
    {
        var generator = new Generator(seed);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator).to(dtype);
        long[] kernel = grid.Length == 1 ? [heads, size] : [heads, size, size];
        return [Draw([batch, .. grid, width]), Draw([batch, .. grid, heads]), Draw([batch, .. grid, width]), Draw(kernel)];
    }

    static (Tensor Output, Tensor[] Grads) ForwardBackward(Tensor[] x, bool causal, int threads)
    {
        using var cpu = ConvFullPaths.Force(ConvFullPath.Cpu);
        using var degree = ConvFullThreads.Use(threads);
        var leaves = x.Select(t => t.detach().clone().requires_grad_()).ToArray();
        var output = AftConv.Apply(leaves[0], leaves[1], leaves[2], leaves[3], causal);
        output.backward([randn(output.shape, dtype: output.dtype, generator: new Generator(5))]);
        return (output.detach(), leaves.Select(l => l.grad!).ToArray());
    }

    [Theory]
    [InlineData(1L, new long[] { 9, 11 }, 3L, false)]
    [InlineData(3L, new long[] { 70 }, 5L, false)]
    [InlineData(1L, new long[] { 70 }, 5L, true)]
    [InlineData(3L, new long[] { 33 }, 4L, true)]
    public void One_and_two_threads_give_bit_identical_outputs_and_gradients(long batch, long[] grid, long size, bool causal)
    {
        var x = Inputs(batch, grid, heads: 4, width: 20, size, float32, seed: 21);
        var (one, oneGrads) = ForwardBackward(x, causal, threads: 1);
        var (two, twoGrads) = ForwardBackward(x, causal, threads: 2);
        TensorAssert.BitIdentical(one, two, "output");
        foreach (var (name, i) in new[] { ("∂Q", 0), ("∂K", 1), ("∂V", 2), ("∂w", 3) })
            TensorAssert.BitIdentical(oneGrads[i], twoGrads[i], name);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_bad_value_reaches_no_earlier_position_of_a_causal_sequence_and_no_other_batch_element(double bad)
    {
        const long length = 40, at = 17;
        var x = Inputs(2, [length], heads: 2, width: 8, 5, float32, seed: 22);
        using var cpu = ConvFullPaths.Force(ConvFullPath.Cpu);
        var clean = AftConv.Apply(x[0], x[1], x[2], x[3], causal: true);
        for (var input = 0; input < 3; input++)
        {
            var poisoned = x.Select(t => t.clone()).ToArray();
            poisoned[input][0, at].fill_(bad);
            var output = AftConv.Apply(poisoned[0], poisoned[1], poisoned[2], poisoned[3], causal: true);
            TensorAssert.BitIdentical(clean.narrow(1, 0, at).select(0, 0), output.narrow(1, 0, at).select(0, 0), $"batch 0 before the bad input {input}");
            TensorAssert.BitIdentical(clean.select(0, 1), output.select(0, 1), $"batch 1 with a bad input {input} in batch 0");
        }
    }

    [Fact]
    public void A_bad_value_in_a_grid_reaches_no_other_batch_element()
    {
        var x = Inputs(3, [6, 7], heads: 2, width: 8, 3, float64, seed: 23);
        using var cpu = ConvFullPaths.Force(ConvFullPath.Cpu);
        var clean = AftConv.Apply(x[0], x[1], x[2], x[3]);
        for (var input = 0; input < 3; input++)
        {
            var poisoned = x.Select(t => t.clone()).ToArray();
            poisoned[input][1, 2, 3].fill_(double.NaN);
            var output = AftConv.Apply(poisoned[0], poisoned[1], poisoned[2], poisoned[3]);
            TensorAssert.BitIdentical(clean.select(0, 0), output.select(0, 0), "batch 0");
            TensorAssert.BitIdentical(clean.select(0, 2), output.select(0, 2), "batch 2");
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Float_tensors_take_the_cpu_kernel_by_default(ScalarType dtype)
    {
        var x = Inputs(2, [5, 6], heads: 2, width: 6, 3, dtype, seed: 24);
        Tensor forced;
        using (ConvFullPaths.Force(ConvFullPath.Cpu))
            forced = AftConv.Apply(x[0], x[1], x[2], x[3]);
        Tensor torchPath;
        using (ConvFullPaths.Force(ConvFullPath.Torch))
            torchPath = AftConv.Apply(x[0], x[1], x[2], x[3]);
        var chosen = AftKernels.Implementation == AftKernelImplementation.Torch ? torchPath : forced;
        TensorAssert.BitIdentical(chosen, AftConv.Apply(x[0], x[1], x[2], x[3]), "default dispatch");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Non_contiguous_inputs_give_the_same_results(bool causal)
    {
        var x = Inputs(2, [24], heads: 2, width: 6, 5, float64, seed: 25);
        // The same values laid out time-major, viewed back as [B, T, ·]: strided views.
        var strided = x.Take(3).Select(t => t.transpose(0, 1).contiguous().transpose(0, 1)).Append(x[3]).ToArray();
        Assert.False(strided[0].is_contiguous());
        var (expected, expectedGrads) = ForwardBackward(x, causal, threads: 2);
        var (actual, actualGrads) = ForwardBackward(strided, causal, threads: 2);
        TensorAssert.BitIdentical(expected, actual, "output");
        for (var i = 0; i < 4; i++)
            TensorAssert.BitIdentical(expectedGrads[i], actualGrads[i].contiguous(), $"gradient {i}");
    }

    [Fact]
    public void Extreme_keys_and_biases_in_float64_stay_within_1e_8_of_the_reference()
    {
        foreach (var causal in new[] { false, true })
        {
            long[] grid = causal ? [30] : [6, 5];
            var x = Inputs(2, grid, heads: 2, width: 8, 3, float64, seed: 26);
            x[1] = x[1] / x[1].abs().max() * 1e4;
            x[3] = x[3] * 20;
            using var cpu = ConvFullPaths.Force(ConvFullPath.Cpu);
            var output = AftConv.Apply(x[0], x[1], x[2], x[3], causal);
            TensorAssert.AllFinite(output, "output");
            GradientCheck.Relative(AftNaive.Conv(x[0], x[1], x[2], x[3], causal), output, 1e-8, causal ? "causal" : "grid");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_empty_sequence_gives_an_empty_output_and_zero_kernel_gradients(bool causal)
    {
        var x = Inputs(2, [0], heads: 2, width: 6, 3, float64, seed: 27).Select(t => t.requires_grad_()).ToArray();
        using var cpu = ConvFullPaths.Force(ConvFullPath.Cpu);
        var output = AftConv.Apply(x[0], x[1], x[2], x[3], causal);
        Assert.Equal(new long[] { 2, 0, 6 }, output.shape);
        output.sum().backward();
        TensorAssert.Close(zeros_like(x[3]), x[3].grad!, 0, "∂w");
    }
}
