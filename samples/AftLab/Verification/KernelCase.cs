using AftDsl.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Verification;

/// <summary>
/// One AFT operation to verify: how to make its inputs, how to apply it, and where its key and time axes are.
/// Inputs come back in float64 on the CPU; the checks round them to the dtype under test and move them.
/// </summary>
public sealed record KernelCase(string Name, bool Causal, Func<Generator, Tensor[]> Inputs, Func<Tensor[], Tensor> Apply,
    int[] Differentiable, int KeyIndex = 1, int TimeAxis = 1)
{
    // The benchmark's width, rank and heads, so that both share the kernels they compile (the disk cache).
    const long Width = 512, Rank = 128, Heads = 32;

    /// <summary>Sizes that span several kernel tiles, with partial last tiles and a width that is no power of two.</summary>
    public static IEnumerable<KernelCase> All()
    {
        foreach (var causal in new[] { false, true })
        {
            yield return new($"simple", causal, g => Sequence(g, 3, 2500), x => AftSimple.Apply(x[0], x[1], x[2], causal), [0, 1, 2]);
            foreach (var window in new long[] { 1, 32, 256 })
                yield return new($"local-{window}", causal, g => [.. Sequence(g, 2, 1300), Factor(g, 1300), Factor(g, 1300)],
                    x => AftLocal.Apply(x[0], x[1], x[2], x[3], x[4], window, causal), [0, 1, 2, 3, 4]);
            yield return new("full", causal, g => [.. Sequence(g, 2, 700), Factor(g, 700), Factor(g, 700)],
                x => AftFull.Apply(x[0], x[1], x[2], x[3], x[4], causal), [0, 1, 2, 3, 4]);
            yield return new("conv-1d-7", causal, g => [Randn(g, 2, 1100, Width), Randn(g, 2, 1100, Heads), Randn(g, 2, 1100, Width), Randn(g, Heads, 7) * 0.5],
                x => AftConv.Apply(x[0], x[1], x[2], x[3], causal), [0, 1, 2, 3]);
        }
        yield return new("conv-2d-7x7", false, g => [Randn(g, 2, 37, 45, Width), Randn(g, 2, 37, 45, Heads), Randn(g, 2, 37, 45, Width), Randn(g, Heads, 7, 7) * 0.5],
            x => AftConv.Apply(x[0], x[1], x[2], x[3], false), [0, 1, 2, 3]);
    }

    static Tensor[] Sequence(Generator g, long batch, long length) =>
        [Randn(g, batch, length, Width), Randn(g, batch, length, Width), Randn(g, batch, length, Width)];

    static Tensor Factor(Generator g, long length) => Randn(g, length, Rank) * 0.1;

    static Tensor Randn(Generator g, params long[] shape) => randn(shape, dtype: float64, generator: g);
}
