using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Support;

/// <summary>Assertions on tensors that report where and by how much they differ.</summary>
public static class TensorAssert
{
    public static void Close(Tensor expected, Tensor actual, double tolerance, string what = "values")
    {
        Assert.Equal(expected.shape, actual.shape);
        using var difference = (expected.to(float64) - actual.to(float64)).abs();
        var worst = difference.max().item<double>();
        var at = difference.argmax().item<long>();
        Assert.True(worst <= tolerance,
            $"{what}: largest difference {worst:E3} at flat index {at} exceeds {tolerance:E1} " +
            $"(expected {expected.flatten()[at].to(float64).item<double>():R}, got {actual.flatten()[at].to(float64).item<double>():R}).");
    }

    public static void AllFinite(Tensor tensor, string what)
    {
        using var finite = tensor.isfinite().all();
        Assert.True(finite.item<bool>(), $"{what} has NaN or infinite entries: {tensor.isnan().sum().item<long>()} NaN, {tensor.isinf().sum().item<long>()} infinite.");
    }

    public static void BitIdentical(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        if (expected.contiguous().bytes.SequenceEqual(actual.contiguous().bytes))
            return;
        using var difference = (expected.to(float64) - actual.to(float64)).abs();
        Assert.Fail($"{what}: not bit-identical; largest difference {difference.max().item<double>():E3}.");
    }

    /// <summary>
    /// Runs <paramref name="kernel"/> on <paramref name="inputs"/> (which get gradients) and asserts that its output is
    /// finite and within <paramref name="tolerance"/> of <paramref name="reference"/>, and that every gradient is finite.
    /// </summary>
    public static void FiniteAndExact(Tensor[] inputs, Func<Tensor[], Tensor> kernel, Func<Tensor[], Tensor> reference, double tolerance)
    {
        foreach (var input in inputs) input.requires_grad_();
        var output = kernel(inputs);
        AllFinite(output, "output");
        Close(reference(inputs.Select(i => i.detach()).ToArray()), output.detach(), tolerance);
        output.sum().backward();
        foreach (var input in inputs) AllFinite(input.grad!, "gradient");
    }
}
