using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Support;

/// <summary>Compares every input gradient of a fused operation with autograd through a reference, in float64.</summary>
public static class GradientCheck
{
    /// <summary>
    /// Runs <paramref name="fused"/> and <paramref name="reference"/> on the same float64 leaves, back-propagates
    /// the same random output gradient through both, and requires the outputs and each gradient to agree
    /// within <paramref name="relative"/> of the reference's largest magnitude.
    /// </summary>
    public static void Matches(Func<Tensor[], Tensor> fused, Func<Tensor[], Tensor> reference, Tensor[] inputs, string[] names,
        double relative = 1e-8, long seed = 99)
    {
        var (fusedOutput, fusedGrads) = Run(fused, inputs, seed);
        var (referenceOutput, referenceGrads) = Run(reference, inputs, seed);
        Relative(referenceOutput, fusedOutput, relative, "output");
        for (var i = 0; i < inputs.Length; i++)
            Relative(referenceGrads[i], fusedGrads[i], relative, $"∂L/∂{names[i]}");
    }

    public static void Relative(Tensor expected, Tensor actual, double relative, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scale = expected.abs().max();
        using var difference = (expected - actual).abs().max();
        var error = difference.item<double>() / Math.Max(scale.item<double>(), 1e-300);
        Assert.True(error <= relative, $"{what}: relative error {error:E2} exceeds {relative:E0} (largest |reference| {scale.item<double>():E2}).");
    }

    static (Tensor Output, Tensor[] Grads) Run(Func<Tensor[], Tensor> function, Tensor[] inputs, long seed)
    {
        var leaves = inputs.Select(x => x.detach().clone().requires_grad_()).ToArray();
        var output = function(leaves);
        var upstream = randn(output.shape, dtype: output.dtype, generator: new Generator((ulong)seed));
        output.backward([upstream]);
        return (output.detach(), leaves.Select(l => l.grad ?? zeros_like(l)).ToArray());
    }
}
