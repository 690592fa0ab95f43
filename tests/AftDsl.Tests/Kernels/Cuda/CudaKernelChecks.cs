using AftDsl.Kernels.Cuda;
using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels.Cuda;

/// <summary>Checks the banded CUDA kernels' tests share: kernels run in float32 or bfloat16, references in float64.</summary>
public static class CudaKernelChecks
{
    /// <summary>
    /// Runs <paramref name="kernel"/> on <paramref name="inputs"/> converted to <paramref name="dtype"/> and
    /// <paramref name="reference"/> on the same values in float64 (autograd), back-propagates one random output
    /// gradient through both, and requires the output and every input gradient to agree within
    /// <paramref name="relative"/> of the reference's largest magnitude.
    /// </summary>
    public static void GradientsMatch(Func<Tensor[], Tensor> kernel, Func<Tensor[], Tensor> reference, Tensor[] inputs, string[] names,
        ScalarType dtype, double relative)
    {
        var rounded = inputs.Select(x => x.to(dtype).to(float64)).ToArray();
        var (output, grads) = Run(kernel, rounded.Select(x => x.to(dtype)).ToArray());
        var (expectedOutput, expectedGrads) = Run(reference, rounded);
        GradientCheck.Relative(expectedOutput, output.to(float64), relative, "output");
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(dtype, grads[i].dtype);
            GradientCheck.Relative(expectedGrads[i], grads[i].to(float64), relative, $"∂L/∂{names[i]}");
        }
    }

    /// <summary>Bfloat16 outputs within their own rounding (2⁻⁸ relative) of the float64 result on the same bfloat16 inputs, plus <paramref name="slack"/>.</summary>
    public static void AtBfloat16Rounding(Tensor expected, Tensor actual, double slack = 1e-5)
    {
        Assert.Equal(ScalarType.BFloat16, actual.dtype);
        using var error = (actual.to(float64) - expected).abs();
        using var allowed = expected.abs() * Math.Pow(2, -8) + slack;
        using var excess = error - allowed;
        var worst = excess.max().item<double>();
        var at = excess.argmax().item<long>();
        Assert.True(worst <= 0, $"bfloat16 output off by {error.flatten()[at].item<double>():E3} at flat index {at} (expected {expected.flatten()[at].item<double>():R}, allowed {allowed.flatten()[at].item<double>():E3}).");
    }

    /// <summary>Sets <see cref="AftLocalCuda.Tiles"/> (used by AFT-local and AFT-conv) until disposed.</summary>
    internal static IDisposable SmallTiles(BandTiles tiles)
    {
        var previous = AftLocalCuda.Tiles;
        AftLocalCuda.Tiles = tiles;
        return new Restore(() => AftLocalCuda.Tiles = previous);
    }

    static (Tensor Output, Tensor[] Grads) Run(Func<Tensor[], Tensor> function, Tensor[] inputs)
    {
        var leaves = inputs.Select(x => x.detach().clone().requires_grad_()).ToArray();
        var output = function(leaves);
        var upstream = randn(output.shape, dtype: float64, generator: new Generator(99)).to(output.dtype);
        output.backward([upstream]);
        return (output.detach(), leaves.Select(l => l.grad ?? zeros_like(l)).ToArray());
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}
