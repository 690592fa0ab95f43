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
/// The AFT-local CUDA kernels (aft_local.cu and their host code) under the host emulation, with tiles of 4
/// rows so that a short sequence spans several tiles and scan chunks, against float64 references. Causal windows of
/// up to 3 take the one-kernel backward, wider ones the products.
/// </summary>
public sealed class AftLocalCudaTests : IDisposable
{
    readonly IDisposable tiles = CudaKernelChecks.SmallTiles(new BandTiles(Tile: 4, Rows: 2, BackwardRows: 4, BackwardThreadRows: 2, ProductRows: 4, GroupElements: 1,
        ForwardRows: 4, ForwardThreadRows: 2, ForwardBandEntries: 3,
        CausalBackwardRows: 4, CausalBackwardThreadRows: 2, CausalBackwardEntries: 3, CausalBackwardBatches: 1));
    readonly IDisposable cuda = EmulatedCuda.Use();

    public void Dispose()
    {
        cuda.Dispose();
        tiles.Dispose();
    }

    /// <summary>Q, K, V <c>[B, T, D]</c> and factors U, W <c>[T + 3, rank]</c>, float64.</summary>
    static Tensor[] Inputs(long batch, long length, long channels, ulong seed, long rank = 3)
    {
        var generator = new Generator(seed);
        Tensor Draw(params long[] shape) => randn(shape, dtype: float64, generator: generator);
        return [Draw(batch, length, channels), Draw(batch, length, channels), Draw(batch, length, channels), Draw(length + 3, rank), Draw(length + 3, rank)];
    }

    static Tensor Bias(Tensor[] x) => x[3].narrow(0, 0, x[0].shape[1]).matmul(x[4].narrow(0, 0, x[0].shape[1]).t());

    static Tensor Reference(Tensor[] x, long window, bool causal) =>
        AftNaive.Local(x[0], x[1], x[2], Bias(x), window, causal);

    static Tensor Run(Tensor[] x, long window, bool causal) => AftLocal.Apply(x[0], x[1], x[2], x[3], x[4], window, causal);

    static Tensor[] As(Tensor[] x, ScalarType dtype) => [.. x.Select(t => t.to(dtype))];

    [Theory]
    [InlineData(false, 1, 9, 5)]
    [InlineData(false, 3, 9, 5)]
    [InlineData(false, 3, 18, 40)]     // five tiles, the last one partial; two channel blocks, the last one partial
    [InlineData(false, 30, 13, 5)]     // window wider than the sequence: AFT-full
    [InlineData(true, 1, 9, 5)]
    [InlineData(true, 3, 9, 5)]
    [InlineData(true, 3, 18, 40)]
    [InlineData(true, 30, 13, 5)]
    public void Float32_matches_float64_within_1e_5_relative(bool causal, long window, long length, long channels)
    {
        var x = Inputs(2, length, channels, 1);
        var output = Run(As(x, float32), window, causal);
        Assert.Equal(ScalarType.Float32, output.dtype);
        GradientCheck.Relative(Reference(x.Select(t => t.to(float32).to(float64)).ToArray(), window, causal), output.to(float64), 1e-5, "output");
    }

    [Theory]
    [InlineData(false, 1, 9)]
    [InlineData(false, 3, 14)]
    [InlineData(false, 20, 11)]
    [InlineData(true, 1, 9)]
    [InlineData(true, 3, 14)]
    [InlineData(true, 20, 11)]
    public void Float32_gradients_match_autograd_through_the_naive_reference(bool causal, long window, long length)
    {
        CudaKernelChecks.GradientsMatch(
            y => AftLocal.Apply(y[0], y[1], y[2], y[3], y[4], window, causal),
            y => AftNaive.Local(y[0], y[1], y[2], Bias(y), window, causal),
            Inputs(2, length, 35, 3), ["Q", "K", "V", "U", "W"], float32, 2e-5);
    }

    /// <summary>The one-kernel causal backward with other tiles: two ∂w sums a thread, two batch elements a block, one thread row.</summary>
    [Theory]
    [InlineData(3, 14)]
    [InlineData(8, 21)]
    public void Causal_gradients_match_with_two_batch_elements_a_block(long window, long length)
    {
        using var other = CudaKernelChecks.SmallTiles(AftLocalCuda.Tiles with
        {
            CausalBackwardRows = 8, CausalBackwardThreadRows = 1, CausalBackwardEntries = 8, CausalBackwardBatches = 2,
        });
        CudaKernelChecks.GradientsMatch(
            y => AftLocal.Apply(y[0], y[1], y[2], y[3], y[4], window, causal: true),
            y => AftNaive.Local(y[0], y[1], y[2], Bias(y), window, causal: true),
            Inputs(3, length, 35, 11), ["Q", "K", "V", "U", "W"], float32, 2e-5);
    }

    /// <summary>
    /// Bfloat16: the band's products take E and [P ⊙ V | P] rounded to bfloat16 (accumulating in float32, as
    /// FlashAttention does with its probabilities), and return bfloat16 sums; so outputs hold to a few units
    /// of bfloat16 rounding relative to the largest output (the check suite's 8e-3), not to one unit each.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bfloat16_outputs_and_gradients_are_within_a_few_roundings(bool causal)
    {
        var x = Inputs(2, 14, 8, 4);
        var rounded = x.Select(t => t.to(bfloat16).to(float64)).ToArray();
        var output = Run(As(x, bfloat16), 3, causal);
        Assert.Equal(ScalarType.BFloat16, output.dtype);
        GradientCheck.Relative(Reference(rounded, 3, causal), output.to(float64), 8e-3, "output");
        CudaKernelChecks.GradientsMatch(
            y => AftLocal.Apply(y[0], y[1], y[2], y[3], y[4], 3, causal),
            y => AftNaive.Local(y[0], y[1], y[2], Bias(y), 3, causal),
            x, ["Q", "K", "V", "U", "W"], bfloat16, 2e-2);
    }

    /// <summary>Window 5 with the tests' three band entries a block: the last chunk of entries is partial.</summary>
    [Theory]
    [InlineData(1.0, 3)]
    [InlineData(1e4, 3)]
    [InlineData(1.0, 5)]
    public void Causal_outputs_at_t_ignore_inputs_after_t_bit_for_bit(double keyScale, long window)
    {
        const long length = 14;
        var x = As(Inputs(2, length, 6, 5), float32);
        x[1] *= keyScale;
        var before = Run(x, window, causal: true);
        foreach (var t in new long[] { 0, 3, 4, 9, 12 })
        {
            var later = length - t - 1;
            var noise = As(Inputs(2, length, 6, 100 + (ulong)t), float32);
            var changed = x.Select(i => i.clone()).ToArray();
            for (var i = 0; i < 3; i++)
                changed[i].narrow(1, t + 1, later).copy_(noise[i].narrow(1, t + 1, later) * (i == 1 ? 1e3 * keyScale : 1e3));
            changed[3].narrow(0, t + 1, later).copy_(noise[3].narrow(0, t + 1, later) * 9);
            changed[4].narrow(0, t + 1, later).copy_(noise[4].narrow(0, t + 1, later) * 9);
            TensorAssert.BitIdentical(before.narrow(1, 0, t + 1), Run(changed, window, causal: true).narrow(1, 0, t + 1), $"positions ≤ {t}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Keys_up_to_1e4_and_biases_at_50_give_finite_exact_outputs_and_finite_gradients(bool causal)
    {
        var x = Inputs(2, 13, 8, 6, rank: 1);
        x[1] = x[1] / x[1].abs().max() * 1e4;
        x[3] = x[3].sign() * Math.Sqrt(50);
        x[4] = x[4].sign() * Math.Sqrt(50);
        var single = As(x, float32);
        TensorAssert.FiniteAndExact(single, inputs => Run(inputs, 3, causal),
            inputs => Reference(inputs.Select(i => i.to(float64)).ToArray(), 3, causal), 1e-5);
    }

    [Theory]
    [InlineData(false, 3)]
    [InlineData(true, 3)]
    [InlineData(true, 5)]
    public void A_NaN_reaches_no_other_batch_element_and_causal_no_earlier_position(bool causal, long window)
    {
        const long length = 14, position = 9;
        var clean = As(Inputs(2, length, 6, 7), float32);
        var poisoned = clean.Select(t => t.clone()).ToArray();
        poisoned[1][0, position, 2] = float.NaN;
        var (cleanOutput, cleanGrads) = OutputAndGradients(clean, window, causal);
        var (output, grads) = OutputAndGradients(poisoned, window, causal);
        TensorAssert.BitIdentical(cleanOutput[1], output[1], "the other batch element's output");
        TensorAssert.AllFinite(output[1], "the other batch element's output");
        for (var i = 0; i < 3; i++)
            TensorAssert.BitIdentical(cleanGrads[i][1], grads[i][1], $"the other batch element's gradient {i}");
        if (causal)
            TensorAssert.BitIdentical(cleanOutput[0].narrow(0, 0, position), output[0].narrow(0, 0, position), "earlier positions");
        else
            Assert.True(output[0].isnan().any().item<bool>(), "non-causal: the NaN reaches its own batch element");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_and_backward_leave_no_tensors_alive(bool causal)
    {
        var x = As(Inputs(2, 10, 4, 9), float32);
        LeakCheck.NoTensorsLeak(() =>
        {
            var leaves = x.Select(i => i.detach().requires_grad_()).ToArray();
            Run(leaves, 3, causal).sum().backward();
        });
    }

    static (Tensor Output, Tensor[] Grads) OutputAndGradients(Tensor[] x, long window, bool causal)
    {
        var leaves = x.Select(i => i.detach().clone().requires_grad_()).ToArray();
        var output = Run(leaves, window, causal);
        output.backward([ones_like(output)]);
        return (output.detach(), leaves.Select(l => l.grad!).ToArray());
    }
}
