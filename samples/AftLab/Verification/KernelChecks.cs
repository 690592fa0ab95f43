using System.Globalization;
using AftDsl.Kernels;
using AftLab.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Verification;

/// <summary>The outcome of one check: the measured error (or a count), the limit, and whether it held.</summary>
public sealed record CheckResult(string Case, string Dtype, string Check, double Measured, double Limit, bool Passed, string Detail = "");

/// <summary>
/// Checks the fused kernels on one device and dtype against references: the libtorch-operator kernels in
/// float64 on the CPU (themselves tested against the paper's equations as written), the same kernels in
/// the dtype under test, and properties that hold exactly: causal outputs do not change when the future
/// does, keys up to ±1e4 give finite results, and a NaN stays where it was put.
/// </summary>
public static class KernelChecks
{
    /// <summary>Relative error (‖a − b‖ / ‖b‖) allowed for outputs and gradients, per dtype.</summary>
    public static (double Output, double Gradient) Tolerance(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => (1e-8, 1e-8),
        ScalarType.Float32 => (1e-5, 1e-4),
        _ => (8e-3, 3e-2),          // bfloat16: rounding of the output (2⁻⁹) and of every stored gradient
    };

    public static IEnumerable<CheckResult> Run(KernelCase c, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        var exact = c.Inputs(generator).Select(x => x.to(dtype).to(float64)).ToArray();     // representable in dtype
        var upstream = randn(exact[0].shape, dtype: float64, generator: generator).to(dtype).to(float64);   // outputs are shaped as Q
        var (outputLimit, gradientLimit) = Tolerance(dtype);
        var name = dtype.ToString().ToLowerInvariant();
        CheckResult Result(string check, double measured, double limit, string detail = "") =>
            new(c.Name + (c.Causal ? " causal" : ""), name, check, measured, limit, measured <= limit, detail);

        var (output, gradients) = ForwardBackward(c, exact, upstream, dtype, device, AftKernelImplementation.Fused);
        var (expected, expectedGradients) = ForwardBackward(c, exact, upstream, float64, CPU, AftKernelImplementation.Torch);
        yield return Result("output vs float64", Relative(output, expected), outputLimit);
        for (var i = 0; i < gradients.Length; i++)
            yield return Result($"∂input{c.Differentiable[i]} vs float64", Relative(gradients[i], expectedGradients[i]), gradientLimit);

        // Both implementations round to the dtype; they may differ by the operator kernels' own error as well.
        var (operators, _) = ForwardBackward(c, exact, null, dtype, device, AftKernelImplementation.Torch);
        yield return Result("output vs libtorch-operator kernels, same dtype", Relative(output, operators), outputLimit + Relative(operators, expected));

        var extreme = exact.Select(x => x.clone()).ToArray();
        extreme[c.KeyIndex].mul_(1e4);
        var (large, largeGradients) = ForwardBackward(c, extreme, upstream, dtype, device, AftKernelImplementation.Fused);
        var nonFinite = NonFinite(large) + largeGradients.Sum(NonFinite);
        yield return Result("keys × 1e4: non-finite outputs and gradients", nonFinite, 0);
        var (largeExpected, _) = ForwardBackward(c, extreme, null, float64, CPU, AftKernelImplementation.Torch);
        yield return Result("keys × 1e4: output vs float64", Relative(large, largeExpected), 10 * outputLimit);

        var length = exact[0].shape[c.TimeAxis];
        var cut = length * 2 / 3;
        if (c.Causal)
        {
            var changed = exact.Select(x => x.clone()).ToArray();
            foreach (var i in new[] { 0, 1, 2 })
                changed[i].narrow(c.TimeAxis, cut + 1, length - cut - 1).mul_(i == c.KeyIndex ? 50 : -3).add_(1);
            var (after, _) = ForwardBackward(c, changed, null, dtype, device, AftKernelImplementation.Fused);
            var (count, detail) = Differing(output, after, c.TimeAxis, cut + 1);
            yield return Result($"future inputs changed after t = {cut}: outputs ≤ t that differ", count, 0, detail);
        }

        var poisoned = exact.Select(x => x.clone()).ToArray();
        poisoned[c.KeyIndex][0].narrow(c.TimeAxis - 1, cut, 1).fill_(double.NaN);
        var (nan, _) = ForwardBackward(c, poisoned, null, dtype, device, AftKernelImplementation.Fused);
        var (others, othersDetail) = Differing(output.narrow(0, 1, output.shape[0] - 1), nan.narrow(0, 1, nan.shape[0] - 1), c.TimeAxis, length);
        yield return Result("NaN key in batch 0: other batch elements that differ", others, 0, othersDetail);
        if (c.Causal)
        {
            var (earlier, earlierDetail) = Differing(output.narrow(0, 0, 1), nan.narrow(0, 0, 1), c.TimeAxis, cut);
            yield return Result($"NaN key at t = {cut}: earlier outputs of batch 0 that differ", earlier, 0, earlierDetail);
        }
    }

    // Output (float64, CPU) and, for an upstream gradient, the gradients of the differentiable inputs.
    static (Tensor Output, Tensor[] Gradients) ForwardBackward(KernelCase c, Tensor[] inputs, Tensor? upstream, ScalarType dtype, Device device, AftKernelImplementation implementation)
    {
        var leaves = inputs.Select((x, i) => x.to(dtype, device).requires_grad_(upstream is not null && c.Differentiable.Contains(i))).ToArray();
        var output = Apply(c, leaves, implementation);
        // The backward runs on the path its forward took, whatever the implementation is by then.
        var gradients = upstream is null ? []
            : autograd.grad([output], c.Differentiable.Select(i => leaves[i]).ToArray(), [upstream.to(dtype, device)]).ToArray();
        return (output.detach().to(float64).cpu(), gradients.Select(g => g.to(float64).cpu()).ToArray());
    }

    static Tensor Apply(KernelCase c, Tensor[] inputs, AftKernelImplementation implementation) =>
        KernelChoice.With(implementation, () => c.Apply(inputs));

    static double Relative(Tensor actual, Tensor expected)
    {
        var norm = expected.nan_to_num().norm().item<double>();
        var error = (actual - expected).norm().item<double>();
        return double.IsNaN(error) ? double.PositiveInfinity : error / Math.Max(norm, 1e-300);
    }

    static double NonFinite(Tensor x) => x.isfinite().logical_not().sum().item<long>();

    // Entries among the first `positions` along `axis` that are not bit-identical (NaN equal to NaN), and where
    // the first and last of them lie along that axis and by how much they differ at most.
    static (double Count, string Detail) Differing(Tensor a, Tensor b, int axis, long positions)
    {
        var (x, y) = (a.narrow(axis, 0, positions), b.narrow(axis, 0, positions));
        var differs = x.eq(y).logical_or(x.isnan().logical_and(y.isnan())).logical_not();
        var count = differs.sum().item<long>();
        if (count == 0) return (0, "");
        var along = differs.nonzero()[.., axis];
        var largest = (x - y).abs().masked_select(differs).nan_to_num(double.PositiveInfinity).max().item<double>();
        return (count, string.Create(CultureInfo.InvariantCulture,
            $"at positions {along.min().item<long>()}–{along.max().item<long>()}, by up to {largest:G3}"));
    }
}
